import Router from '@koa/router';
import type { Scope } from '../apikeys/api-key.js';
import type { RequestMiddleware, RequestState } from './state.js';
import {
  CREATE_API_KEY_BODY,
  DELIVERIES_QUERY,
  INCIDENTS_QUERY,
  LOGS_QUERY,
  REGISTRATION_BODY,
  REGISTRATION_CHANGE_BODY,
  TRIAGE_QUERY,
  type QueryProperties,
} from './api/schemas.js';

/**
 * Who may call a route: anyone (probes, metrics, the API's description), a sender proving itself
 * by the source's signature (the receiver checks it; an API key grants nothing there), or an API
 * key holding a scope.
 */
export type Access = 'public' | 'signed' | { scope: Scope };

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteRow {
  /** Names the route's handler, its OpenAPI operation and its metric/log name. */
  id: string;
  method: Method;
  /** Matched exactly: case-sensitive, no trailing slash, `:name` for one path segment. */
  path: string;
  access: Access;
  /** The query parameters it takes; the route parses with exactly these (api/validation.ts), OpenAPI documents them. */
  query?: QueryProperties;
  /** The JSON body it takes, likewise. */
  body?: object;
}

const key = (scope: Scope): Access => ({ scope });

/**
 * Every route the service serves, once. The router is built from this table and nothing else, the
 * authorization check reads its `access` after the match, the route validates its query and body
 * with the row's schemas, and the OpenAPI document and the authorization matrix test are generated
 * from it: a route cannot exist, or take input, without its row saying so.
 */
export const ROUTES = [
  { id: 'healthz', method: 'GET', path: '/healthz', access: 'public' },
  { id: 'readyz', method: 'GET', path: '/readyz', access: 'public' },
  { id: 'openapi', method: 'GET', path: '/openapi.json', access: 'public' },
  { id: 'metrics', method: 'GET', path: '/metrics', access: 'public' },
  { id: 'webhooks.receive', method: 'POST', path: '/api/webhooks/:source', access: 'signed' },
  { id: 'webhooks.list', method: 'GET', path: '/api/webhooks', access: key('webhooks:read') },
  { id: 'webhooks.register', method: 'POST', path: '/api/webhooks', access: key('webhooks:write'), body: REGISTRATION_BODY },
  { id: 'webhooks.get', method: 'GET', path: '/api/webhooks/:source', access: key('webhooks:read') },
  { id: 'webhooks.update', method: 'PATCH', path: '/api/webhooks/:source', access: key('webhooks:write'), body: REGISTRATION_CHANGE_BODY },
  { id: 'webhooks.remove', method: 'DELETE', path: '/api/webhooks/:source', access: key('webhooks:write') },
  { id: 'webhooks.test', method: 'POST', path: '/api/webhooks/:source/test', access: key('webhooks:write') },
  { id: 'apikeys.list', method: 'GET', path: '/api/apikeys', access: key('admin') },
  { id: 'apikeys.create', method: 'POST', path: '/api/apikeys', access: key('admin'), body: CREATE_API_KEY_BODY },
  { id: 'apikeys.revoke', method: 'DELETE', path: '/api/apikeys/:id', access: key('admin') },
  { id: 'logs.list', method: 'GET', path: '/api/logs', access: key('logs:read'), query: LOGS_QUERY },
  { id: 'deliveries.list', method: 'GET', path: '/api/deliveries', access: key('logs:read'), query: DELIVERIES_QUERY },
  { id: 'incidents.list', method: 'GET', path: '/api/incidents', access: key('incidents:read'), query: INCIDENTS_QUERY },
  { id: 'incidents.get', method: 'GET', path: '/api/incidents/:id', access: key('incidents:read') },
  { id: 'queue.get', method: 'GET', path: '/api/queue/:queueId', access: key('incidents:read') },
  { id: 'triage.list', method: 'GET', path: '/api/triage/requests', access: key('incidents:read'), query: TRIAGE_QUERY },
] as const satisfies readonly RouteRow[];

export type RouteId = (typeof ROUTES)[number]['id'];

/** What serves each route: one or more middleware after the authorization check. */
export type RouteHandlers = Record<RouteId, RequestMiddleware | readonly RequestMiddleware[]>;

/** Turns a row's access into the check that runs once the row matched (see http/api/auth.ts). */
export type Authorize = (access: Access) => RequestMiddleware | undefined;

/**
 * The one router: case-sensitive and strict, so `/API/apikeys`, `/api/apikeys/` and
 * `/api//apikeys` match nothing rather than a route whose check a prefix would have missed. Each
 * route's chain starts with its own authorization, so the check and the match cannot disagree.
 */
export function tableRouter(handlers: RouteHandlers, authorize: Authorize): Router<RequestState> {
  const router = new Router<RequestState>({ sensitive: true, strict: true });
  for (const row of ROUTES as readonly RouteRow[]) {
    const check = authorize(row.access);
    const handler = handlers[row.id as RouteId];
    const chain = [...(check ? [check] : []), ...(Array.isArray(handler) ? handler : [handler as RequestMiddleware])];
    router.register(row.path, [row.method], chain, { name: row.id });
  }
  return router;
}
