import { err, ok } from '../core/result.js';
import type { ClaimProblem, SourceClaim } from '../sources/source.js';
import { crdKeys, filterProblems, toSource } from '../sources/source-spec.js';
import {
  DEFAULT_SECRET_KEY,
  PREVIOUS_KEY_EXPIRES_ANNOTATION,
  SECRET_SELECTOR,
  sourceNameOf as specSourceName,
  webhookSourceOrigin,
  type WebhookSourceSpec,
  type WebhookSourceStatus,
} from './webhook-source-crd.js';
import type { CachedObject } from './informer.js';

/** The cached view of a WebhookSource: what the provider and the reconciler read, nothing more. */
export interface CachedWebhookSource extends CachedObject {
  uid: string;
  generation: number;
  creationTimestamp: string;
  spec: WebhookSourceSpec;
  status: WebhookSourceStatus;
  /** From the expiry annotation, in ms; undefined: the previous key has no end of its own. */
  previousKeyExpiresAt: number | undefined;
}

/** The cached view of a labelled Secret: its decoded keys only. */
export interface SecretObject extends CachedObject {
  data: ReadonlyMap<string, Buffer>;
}

interface RawMetadata {
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  annotations?: Record<string, string>;
}

export function toCachedWebhookSource(raw: Record<string, unknown>): CachedWebhookSource {
  const metadata = (raw.metadata ?? {}) as RawMetadata;
  return {
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    resourceVersion: metadata.resourceVersion ?? '',
    generation: metadata.generation ?? 0,
    creationTimestamp: metadata.creationTimestamp ?? '',
    spec: (raw.spec ?? { secretRef: { name: '' } }) as WebhookSourceSpec,
    status: raw.status ?? {},
    previousKeyExpiresAt: expiryOf(metadata.annotations?.[PREVIOUS_KEY_EXPIRES_ANNOTATION]),
  };
}

export function toSecretObject(raw: Record<string, unknown>): SecretObject {
  const metadata = (raw.metadata ?? {}) as RawMetadata;
  const data = new Map<string, Buffer>();
  for (const [key, value] of Object.entries((raw.data ?? {}) as Record<string, string>)) data.set(key, Buffer.from(value, 'base64'));
  return { namespace: metadata.namespace ?? '', name: metadata.name ?? '', resourceVersion: metadata.resourceVersion ?? '', data };
}

export function sourceNameOf(object: CachedWebhookSource): string {
  return specSourceName({ metadata: { name: object.name }, spec: object.spec });
}

export function originOf(object: { namespace: string; name: string }): string {
  return webhookSourceOrigin(object.namespace, object.name);
}

/** What the Secret cache says about an object's secretRef. `unlabelled` is only known after a GET. */
export type SecretView =
  | { state: 'resolved'; secrets: readonly Buffer[]; missingPreviousKey: boolean }
  | { state: 'not-found' }
  | { state: 'unlabelled' }
  | { state: 'key-missing'; key: string };

/** An unreadable expiry keeps the previous key: refusing a sender over a typo would lose events. */
function expiryOf(annotation: string | undefined): number | undefined {
  const at = annotation === undefined ? NaN : Date.parse(annotation);
  return Number.isNaN(at) ? undefined : at;
}

/** Whether the previous key has passed its expiry annotation at `nowMs`. */
export function previousKeyExpired(object: CachedWebhookSource, nowMs: number): boolean {
  return object.previousKeyExpiresAt !== undefined && object.previousKeyExpiresAt <= nowMs;
}

/** Reads the referenced keys out of a cached Secret of the object's own namespace. */
export function resolveSecret(object: CachedWebhookSource, secret: SecretObject | undefined, nowMs: number): SecretView {
  if (!secret) return { state: 'not-found' };
  const { key = DEFAULT_SECRET_KEY } = object.spec.secretRef;
  const current = secret.data.get(key);
  if (!current || current.length === 0) return { state: 'key-missing', key };
  const previousKey = previousKeyExpired(object, nowMs) ? undefined : object.spec.secretRef.previousKey;
  const previous = previousKey === undefined ? undefined : secret.data.get(previousKey);
  return {
    state: 'resolved',
    secrets: previous && previous.length > 0 ? [current, previous] : [current],
    missingPreviousKey: previousKey !== undefined && !previous?.length,
  };
}

/** Why the secret cannot be used, worded for the SecretResolved condition. */
export function secretProblem(object: CachedWebhookSource, secret: Exclude<SecretView, { state: 'resolved' }>): ClaimProblem {
  const where = `Secret '${object.spec.secretRef.name}' in namespace '${object.namespace}'`;
  switch (secret.state) {
    case 'not-found':
      return { reason: 'SecretNotFound', message: `${where} not found (only Secrets labelled ${SECRET_SELECTOR} are read)` };
    case 'unlabelled':
      return { reason: 'SecretNotLabelled', message: `${where} exists but lacks the label ${SECRET_SELECTOR}; only labelled Secrets are read` };
    case 'key-missing':
      return { reason: 'KeyMissing', message: `${where} has no non-empty key '${secret.key}'` };
  }
}

/**
 * The claim one object makes on its source name. A claim whose secret cannot be resolved still
 * holds the name (the registry keeps it, answering unknown_source), so a passing Secret problem
 * never hands the URL to another object; the older object keeps it by `claimedAt`.
 */
export function toClaim(object: CachedWebhookSource, secret: SecretView): SourceClaim {
  const name = sourceNameOf(object);
  const origin = originOf(object);
  const claimedAt = Date.parse(object.creationTimestamp);
  const invalid = filterProblem(object);
  if (invalid) return { name, origin, claimedAt, source: err(invalid) };
  if (secret.state !== 'resolved') return { name, origin, claimedAt, source: err(secretProblem(object, secret)) };
  return { name, origin, claimedAt, source: ok(toSource({ name, origin, spec: object.spec, secrets: secret.secrets })) };
}

/** Why the object's filter cannot be served: its expressions that do not compile, with the compiler's messages (Ready=False, InvalidFilter). */
export function filterProblem(object: CachedWebhookSource): ClaimProblem | undefined {
  const problems = filterProblems(object.spec, crdKeys);
  return problems.length > 0 ? { reason: 'InvalidFilter', message: `spec.${problems.join('; spec.')}` } : undefined;
}
