import Router from '@koa/router';
import type { Store } from '../../store/store.js';
import type { Scope } from '../../apikeys/api-key.js';
import type { RequestState } from '../state.js';
import { requireBearer, requireScope, type Authenticate } from './auth.js';
import { incidentsRouter } from './incidents.js';
import { queueRouter } from './queue.js';
import { triageRouter } from './triage.js';
import { deliveriesRouter } from './deliveries.js';
import { apiKeysRouter } from './apikeys.js';
import { webhooksRouter, type WebhooksRouterDeps } from './webhooks.js';
import { logsRouter, type LogsRouterDeps } from './logs.js';

export interface ApiRouterDeps {
  store: Store;
  authenticate: Authenticate;
  /** Drops a revoked key from the authenticator's cache. */
  forgetApiKey: (id: string) => void;
  webhooks: WebhooksRouterDeps;
  follow: LogsRouterDeps['follow'];
  nowMs: () => number;
}

/**
 * Every `/api` route that people and tools call (the webhook receiver is not one of them: senders
 * prove themselves by signature). The Bearer check is applied here, once, for all of them; read
 * routes need their scope, and routers with mixed needs check per route.
 */
export function apiRouter(deps: ApiRouterDeps): Router<RequestState> {
  const { store } = deps;
  const api = new Router<RequestState>({ prefix: '/api' });
  api.use(requireBearer(deps.authenticate));
  // Read routes by path prefix: the scope each needs.
  const readScopes: [string, Scope][] = [
    ['/incidents', 'incidents:read'],
    ['/queue', 'incidents:read'],
    ['/triage', 'incidents:read'],
    ['/deliveries', 'logs:read'],
    ['/logs', 'logs:read'],
  ];
  for (const [path, scope] of readScopes) api.use(path, requireScope(scope));
  for (const router of [incidentsRouter(store), queueRouter(store.inbox), triageRouter(store.triage), deliveriesRouter(store.deliveries)]) {
    api.use(router.routes(), router.allowedMethods());
  }
  for (const router of [logsRouter({ store: store.deliveries, follow: deps.follow }), apiKeysRouter({ store: store.apiKeys, forget: deps.forgetApiKey, nowMs: deps.nowMs }), webhooksRouter(deps.webhooks)]) {
    api.use(router.routes(), router.allowedMethods());
  }
  return api;
}
