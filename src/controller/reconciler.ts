import type { Logger } from '../log/logger.js';
import { isConflict, isNotFound, type KubeClient } from '../kubernetes/kube-client.js';
import { SECRET_LABEL, webhookSourcePath } from '../kubernetes/webhook-source-crd.js';
import {
  resolveSecret,
  sourceNameOf,
  toCachedWebhookSource,
  type SecretObject,
  type SecretView,
  type CachedWebhookSource,
} from '../kubernetes/webhook-source.js';
import { desiredStatus, metaTime, sameStatus, transition, type ClaimView } from './desired-status.js';
import type { EventRecorder } from './events.js';

export interface ReconcilerDeps {
  client: KubeClient;
  /** The informer caches: reconciling reads them, never the API server (one GET only to tell "unlabelled" from "missing"). */
  cache: {
    object(key: string): CachedWebhookSource | undefined;
    secretOf(object: CachedWebhookSource): SecretObject | undefined;
  };
  claimOf(object: CachedWebhookSource): ClaimView;
  lastEventAt(sourceName: string): number | undefined;
  events: EventRecorder;
  logger: Logger;
  now?: () => number;
}

/** The cache lags the API server: the reconcile is retried (with backoff) rather than writing a wrong status. */
export class CacheBehind extends Error {}

/** Attempts per reconcile when status writes conflict; then the key goes back to the queue with backoff. */
const CONFLICT_ATTEMPTS = 3;

/**
 * One reconcile of one key: cache read → desiredStatus → status patch (with the read
 * resourceVersion as precondition) only if it differs → an Event when a condition moved. A
 * conflict re-reads the object and tries again a bounded number of times.
 */
export async function reconcile(key: string, deps: ReconcilerDeps): Promise<void> {
  let object = deps.cache.object(key);
  for (let attempt = 1; object; attempt += 1) {
    const secret = await secretView(object, deps);
    const status = desiredStatus({
      object,
      secret,
      claim: deps.claimOf(object),
      now: metaTime((deps.now ?? Date.now)()),
      lastEventAt: deps.lastEventAt(sourceNameOf(object)),
    });
    if (sameStatus(object.status, status)) return;
    try {
      await deps.client.request(
        'PATCH',
        `${webhookSourcePath(object.namespace, object.name)}/status`,
        { metadata: { resourceVersion: object.resourceVersion }, status },
        'application/merge-patch+json',
      );
    } catch (error) {
      if (isNotFound(error)) return; // deleted meanwhile: nothing to report on
      if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
      object = await fresh(object, deps);
      continue;
    }
    const moved = transition(object.status, status);
    // Not awaited: an Event is best effort and must not hold a worker from the next status.
    if (moved) void deps.events.record(object, moved.status === 'True' ? 'Normal' : 'Warning', moved.reason, moved.message);
    return;
  }
}

async function secretView(object: CachedWebhookSource, deps: ReconcilerDeps): Promise<SecretView> {
  const cached = deps.cache.secretOf(object);
  if (cached) return resolveSecret(object, cached, (deps.now ?? Date.now)());
  // Not in the label-selected cache: one GET says whether it is missing or merely unlabelled.
  try {
    const secret = await deps.client.request<{ metadata?: { labels?: Record<string, string> } }>(
      'GET',
      `/api/v1/namespaces/${object.namespace}/secrets/${object.spec.secretRef.name}`,
    );
    if (secret.metadata?.labels?.[SECRET_LABEL] === 'true')
      throw new CacheBehind(`labelled Secret ${object.namespace}/${object.spec.secretRef.name} not in the cache yet`);
    return { state: 'unlabelled' };
  } catch (error) {
    if (isNotFound(error)) return { state: 'not-found' };
    throw error;
  }
}

async function fresh(object: CachedWebhookSource, deps: ReconcilerDeps): Promise<CachedWebhookSource | undefined> {
  try {
    return toCachedWebhookSource(await deps.client.request<Record<string, unknown>>('GET', webhookSourcePath(object.namespace, object.name)));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
