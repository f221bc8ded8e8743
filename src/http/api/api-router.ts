import Router from '@koa/router';
import type { Store } from '../../store/store.js';
import type { RequestState } from '../state.js';
import { requireBearer, type TokenCheck } from './auth.js';
import { incidentsRouter } from './incidents.js';
import { queueRouter } from './queue.js';
import { triageRouter } from './triage.js';
import { deliveriesRouter } from './deliveries.js';

/**
 * Every `/api` route that people and tools call (the webhook receiver is not one of them: senders
 * prove themselves by signature). The Bearer check is applied here, once, for all of them.
 */
export function apiRouter(store: Store, tokenMatches: TokenCheck): Router<RequestState> {
  const api = new Router<RequestState>({ prefix: '/api' });
  api.use(requireBearer(tokenMatches));
  for (const router of [incidentsRouter(store), queueRouter(store.inbox), triageRouter(store.triage), deliveriesRouter(store.deliveries)]) {
    api.use(router.routes(), router.allowedMethods());
  }
  return api;
}
