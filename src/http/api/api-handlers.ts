import type { Store } from '../../store/store.js';
import type { RouteHandlers } from '../routes.js';
import type { Authenticate } from './auth.js';
import { incidentsHandlers } from './incidents.js';
import { queueHandlers } from './queue.js';
import { triageHandlers } from './triage.js';
import { deliveriesHandlers } from './deliveries.js';
import { apiKeysHandlers } from './apikeys.js';
import { webhooksHandlers, type WebhooksDeps } from './webhooks.js';
import { logsHandlers, type FollowLimits, type LogsDeps } from './logs.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Logger } from '../../log/logger.js';
import { auditHandlers, changeRecorder } from './audit.js';
import { storeAdminHandlers } from './store-admin.js';
import type { JobControl } from '../../jobs/job.js';

export interface ApiDeps {
  store: Store;
  authenticate: Authenticate;
  /** Drops a revoked key from the authenticator's cache. */
  forgetApiKey: (id: string) => void;
  webhooks: WebhooksDeps;
  follow: LogsDeps['follow'];
  /** Caps on `GET /api/logs?follow=true` streams. */
  followLimits: FollowLimits;
  metrics: Metrics;
  logger: Logger;
  /** Admin jobs: backup, renormalize. */
  jobs: JobControl;
  nowMs: () => number;
}

type ApiRouteId = Exclude<keyof RouteHandlers, 'healthz' | 'readyz' | 'openapi' | 'metrics' | 'webhooks.receive'>;

/**
 * The handlers of every `/api` route that people and tools call (the webhook receiver is not one
 * of them: senders prove themselves by signature). Who may call each is its row in routes.ts.
 */
export function apiHandlers(deps: ApiDeps): Pick<RouteHandlers, ApiRouteId> {
  const { store } = deps;
  const recordChange = changeRecorder({
    store: store.audit,
    logger: deps.logger,
    nowMs: deps.nowMs,
    ...(deps.webhooks.registrations.identity && { kubernetesUser: () => deps.webhooks.registrations.identity!() }),
  });
  return {
    ...incidentsHandlers(store, deps.nowMs),
    ...queueHandlers(store.inbox),
    ...triageHandlers(store.triage),
    ...deliveriesHandlers(store.deliveries),
    ...logsHandlers({ store: store.deliveries, follow: deps.follow, limits: deps.followLimits, metrics: deps.metrics }),
    ...apiKeysHandlers({ store: store.apiKeys, forget: deps.forgetApiKey, nowMs: deps.nowMs, recordChange }),
    ...webhooksHandlers({ ...deps.webhooks, recordChange }),
    ...auditHandlers(store.audit),
    ...storeAdminHandlers({ store, jobs: deps.jobs, sources: deps.webhooks.sources }),
  };
}
