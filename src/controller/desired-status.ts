import { filterProblem, secretProblem, sourceNameOf, type SecretView, type CachedWebhookSource } from '../kubernetes/webhook-source.js';
import { STATUS_REASONS } from '../sources/registry.js';
import { DEFAULT_SECRET_KEY, type WebhookSourceCondition as Condition, type WebhookSourceStatus } from '../kubernetes/webhook-source-crd.js';

/** Who serves the object's source name on this replica: the object itself, or another declaration. */
export type ClaimView = { holder: 'self' } | { holder: 'other'; heldBy: string };

/** The reasons of True conditions; False ones come from the registry (conflict, suspended) and the secret check. */
const REASONS = { serving: 'Serving', resolved: 'SecretResolved' } as const;

/** `lastEventTime` moves at most this often, so busy sources do not turn into a status write per request. */
export const LAST_EVENT_WRITE_INTERVAL_MS = 60_000;

export interface DesiredStatusInput {
  object: CachedWebhookSource;
  secret: SecretView;
  claim: ClaimView;
  /** metav1.Time of this reconcile (RFC 3339, seconds). */
  now: string;
  /** Epoch ms of the last accepted event for this source on this replica, if any. */
  lastEventAt: number | undefined;
}

/**
 * The status an object should have, from what the caches say. Pure: the reconciler writes it only
 * when it differs from the stored status, and a condition keeps its lastTransitionTime while its
 * status stays the same.
 */
export function desiredStatus({ object, secret, claim, now, lastEventAt }: DesiredStatusInput): WebhookSourceStatus {
  const generation = object.generation;
  const name = sourceNameOf(object);
  const path = `/api/webhooks/${name}`;
  const secretCondition = secretResolved(object, secret);
  const ready = readyCondition(object, name, path, secretCondition, claim);
  const previous = object.status.conditions ?? [];
  const conditions = [ready, secretCondition].map((condition) => withTransition({ ...condition, observedGeneration: generation }, previous, now));
  const status: WebhookSourceStatus = { observedGeneration: generation, sourceName: name, webhookPath: path, conditions };
  const lastEventTime = nextLastEventTime(object.status.lastEventTime, lastEventAt);
  if (lastEventTime !== undefined) status.lastEventTime = lastEventTime;
  return status;
}

type Draft = Omit<Condition, 'observedGeneration' | 'lastTransitionTime'>;

function secretResolved(object: CachedWebhookSource, secret: SecretView): Draft {
  const type = 'SecretResolved';
  if (secret.state !== 'resolved') return { type, status: 'False', ...secretProblem(object, secret) };
  const { name, key = DEFAULT_SECRET_KEY, previousKey } = object.spec.secretRef;
  const where = `Secret '${name}' in namespace '${object.namespace}'`;
  return {
    type,
    status: 'True',
    reason: REASONS.resolved,
    message: secret.missingPreviousKey
      ? `${where}: key '${key}' in use; previousKey '${previousKey}' is absent, so only the current key verifies`
      : `${where}: ${secret.secrets.length === 2 ? `keys '${key}' and '${previousKey}'` : `key '${key}'`} in use`,
  };
}

function readyCondition(object: CachedWebhookSource, name: string, path: string, secret: Draft, claim: ClaimView): Draft {
  const type = 'Ready';
  if (object.spec.suspend === true)
    return { type, status: 'False', reason: STATUS_REASONS.suspended, message: `suspended: ${path} answers 404 unknown_source` };
  if (claim.holder === 'other') {
    return {
      type,
      status: 'False',
      reason: STATUS_REASONS.conflict,
      message: `source name '${name}' is already held by ${claim.heldBy}, an older declaration`,
    };
  }
  const invalid = filterProblem(object);
  if (invalid) return { type, status: 'False', ...invalid };
  if (secret.status !== 'True') return { type, status: 'False', reason: secret.reason, message: secret.message };
  return { type, status: 'True', reason: REASONS.serving, message: `serving ${path}` };
}

function withTransition(next: Omit<Condition, 'lastTransitionTime'>, previous: readonly Condition[], now: string): Condition {
  const before = previous.find((condition) => condition.type === next.type);
  return { ...next, lastTransitionTime: before && before.status === next.status ? before.lastTransitionTime : now };
}

function nextLastEventTime(written: string | undefined, lastEventAt: number | undefined): string | undefined {
  if (lastEventAt === undefined) return written;
  if (written !== undefined && lastEventAt - Date.parse(written) < LAST_EVENT_WRITE_INTERVAL_MS) return written;
  return metaTime(lastEventAt);
}

/** metav1.Time: RFC 3339 with seconds. */
export function metaTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Deep equality regardless of key order (the API server returns keys sorted). */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The condition whose change is worth an Event: Ready, or SecretResolved when Ready's reason did not move. */
export function transition(before: WebhookSourceStatus, after: WebhookSourceStatus): Condition | undefined {
  for (const type of ['Ready', 'SecretResolved']) {
    const was = before.conditions?.find((condition) => condition.type === type);
    const now = after.conditions?.find((condition) => condition.type === type);
    if (now && (was?.status !== now.status || was.reason !== now.reason)) return now;
  }
  return undefined;
}
