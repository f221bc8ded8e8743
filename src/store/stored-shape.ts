import { OBSERVABLE_KINDS, type IncidentSummary, type Observables } from '../incidents/model.js';

/**
 * An incident as read from a store, with the fields added since it was written present, so every
 * reader sees one shape: no MITRE ids, no status records or test mark, no labels, no domains/processes/files, and the per-algorithm hash
 * lists sorted out of `hashes` by length (all it held were MD5, SHA-1 and SHA-256 hex digests),
 * no normalizer version (0: built before versions were recorded).
 * Mutates and returns the parsed object: it is fresh from JSON or the driver.
 */
export function currentShape<T extends IncidentSummary>(stored: T): T {
  stored.mitre ??= { tactics: [], techniques: [] };
  // Written before status changes and test events existed (when no status but `new` was ever set).
  stored.acknowledged ??= null;
  stored.resolved ??= null;
  stored.test ??= false;
  stored.labels ??= {};
  stored.normalizerVersion ??= 0;
  const observables: Partial<Observables> = stored.observables;
  if (observables.md5 === undefined) {
    const hashes = observables.hashes ?? [];
    observables.md5 = hashes.filter((hash) => hash.length === 32);
    observables.sha1 = hashes.filter((hash) => hash.length === 40);
    observables.sha256 = hashes.filter((hash) => hash.length === 64);
  }
  for (const kind of OBSERVABLE_KINDS) observables[kind] ??= [];
  return stored;
}
