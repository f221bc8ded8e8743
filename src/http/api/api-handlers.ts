import type { Store } from '../../store/store.js';
import type { RouteHandlers } from '../routes.js';
import type { Authenticate } from './auth.js';
import { incidentsHandlers } from './incidents.js';
import { queueHandlers } from './queue.js';
import { triageHandlers } from './triage.js';
import { deliveriesHandlers } from './deliveries.js';
import { apiKeysHandlers } from './apikeys.js';
import { webhooksHandlers, type WebhooksDeps } from './webhooks.js';
import { logsHandlers, type LogsDeps } from './logs.js';

export interface ApiDeps {
  store: Store;
  authenticate: Authenticate;
  /** Drops a revoked key from the authenticator's cache. */
  forgetApiKey: (id: string) => void;
  webhooks: WebhooksDeps;
  follow: LogsDeps['follow'];
  nowMs: () => number;
}

type ApiRouteId = Exclude<keyof RouteHandlers, 'healthz' | 'readyz' | 'openapi' | 'metrics' | 'webhooks.receive'>;

/**
 * The handlers of every `/api` route that people and tools call (the webhook receiver is not one
 * of them: senders prove themselves by signature). Who may call each is its row in routes.ts.
 */
export function apiHandlers(deps: ApiDeps): Pick<RouteHandlers, ApiRouteId> {
  const { store } = deps;
  return {
    ...incidentsHandlers(store, deps.nowMs),
    ...queueHandlers(store.inbox),
    ...triageHandlers(store.triage),
    ...deliveriesHandlers(store.deliveries),
    ...logsHandlers({ store: store.deliveries, follow: deps.follow }),
    ...apiKeysHandlers({ store: store.apiKeys, forget: deps.forgetApiKey, nowMs: deps.nowMs }),
    ...webhooksHandlers(deps.webhooks),
  };
}
