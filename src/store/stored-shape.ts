import { OBSERVABLE_KINDS, type IncidentDraft, type Labels, type Observables } from '../incidents/model.js';

/**
 * An incident as read from a store, with the fields added since it was written present, so every
 * reader sees one shape: no MITRE ids, no labels, no domains/processes/files, and the per-algorithm hash
 * lists sorted out of `hashes` by length (all it held were MD5, SHA-1 and SHA-256 hex digests).
 * Mutates and returns the parsed object: it is fresh from JSON or the driver.
 */
export function currentShape<T extends IncidentDraft>(stored: T): T {
  stored.mitre ??= { tactics: [], techniques: [] };
  (stored as { labels?: Labels }).labels ??= {};
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
