import Router, { type RouterMiddleware } from '@koa/router';
import type { Scope } from '../apikeys/api-key.js';
import type { RequestMiddleware, RequestState } from './state.js';
import {
  CREATE_API_KEY_BODY,
  DELIVERIES_QUERY,
  INCIDENTS_QUERY,
  JOBS_QUERY,
  LOGS_QUERY,
  REGISTRATION_BODY,
  REGISTRATION_CHANGE_BODY,
  RENORMALIZE_BODY,
  STATUS_CHANGE_BODY,
  TRIAGE_QUERY,
  AUDIT_QUERY,
  type QueryProperties,
} from './api/schemas.js';

/**
 * Who may call a route: anyone (probes, metrics, the API's description), a sender proving itself
 * by the source's signature (the receiver checks it; an API key grants nothing there), or an API
 * key holding a scope.
 */
export type Access = 'public' | 'signed' | { scope: Scope };

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Which part of the service a route belongs to, and so where it is served (`servedOn`): the
 * internet-facing receiver, the probes every listener answers, the process's own metrics, or the
 * control plane (the API people and tools call, and its description).
 */
export type Plane = 'receiver' | 'probe' | 'metrics' | 'control';

/** `main` is PORT; `receiver` is TW_RECEIVER_PORT, the one to expose to senders. */
export type Listener = 'main' | 'receiver';

/** TW_MODE: one process with every part, or the planes apart (MongoDB only). */
export type Mode = 'all' | 'receiver' | 'control';

export interface RouteRow {
  /** Names the route's handler, its OpenAPI operation and its metric/log name. */
  id: string;
  method: Method;
  /** Matched exactly: case-sensitive, no trailing slash, `:name` for one path segment. */
  path: string;
  access: Access;
  plane: Plane;
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
  { id: 'healthz', method: 'GET', path: '/healthz', access: 'public', plane: 'probe' },
  { id: 'readyz', method: 'GET', path: '/readyz', access: 'public', plane: 'probe' },
  { id: 'openapi', method: 'GET', path: '/openapi.json', access: 'public', plane: 'control' },
  { id: 'metrics', method: 'GET', path: '/metrics', access: 'public', plane: 'metrics' },
  { id: 'webhooks.receive', method: 'POST', path: '/api/webhooks/:source', access: 'signed', plane: 'receiver' },
  { id: 'webhooks.list', method: 'GET', path: '/api/webhooks', access: key('webhooks:read'), plane: 'control' },
  { id: 'webhooks.register', method: 'POST', path: '/api/webhooks', access: key('webhooks:write'), plane: 'control', body: REGISTRATION_BODY },
  { id: 'webhooks.get', method: 'GET', path: '/api/webhooks/:source', access: key('webhooks:read'), plane: 'control' },
  { id: 'webhooks.update', method: 'PATCH', path: '/api/webhooks/:source', access: key('webhooks:write'), plane: 'control', body: REGISTRATION_CHANGE_BODY },
  { id: 'webhooks.remove', method: 'DELETE', path: '/api/webhooks/:source', access: key('webhooks:write'), plane: 'control' },
  { id: 'webhooks.test', method: 'POST', path: '/api/webhooks/:source/test', access: key('webhooks:write'), plane: 'control' },
  { id: 'apikeys.list', method: 'GET', path: '/api/apikeys', access: key('admin'), plane: 'control' },
  { id: 'apikeys.create', method: 'POST', path: '/api/apikeys', access: key('admin'), plane: 'control', body: CREATE_API_KEY_BODY },
  { id: 'apikeys.revoke', method: 'DELETE', path: '/api/apikeys/:id', access: key('admin'), plane: 'control' },
  { id: 'audit.list', method: 'GET', path: '/api/audit', access: key('admin'), plane: 'control', query: AUDIT_QUERY },
  { id: 'logs.list', method: 'GET', path: '/api/logs', access: key('logs:read'), plane: 'control', query: LOGS_QUERY },
  { id: 'deliveries.list', method: 'GET', path: '/api/deliveries', access: key('logs:read'), plane: 'control', query: DELIVERIES_QUERY },
  { id: 'incidents.list', method: 'GET', path: '/api/incidents', access: key('incidents:read'), plane: 'control', query: INCIDENTS_QUERY },
  { id: 'incidents.get', method: 'GET', path: '/api/incidents/:id', access: key('incidents:read'), plane: 'control' },
  {
    id: 'incidents.acknowledge',
    method: 'POST',
    path: '/api/incidents/:id/acknowledge',
    access: key('incidents:write'),
    plane: 'control',
    body: STATUS_CHANGE_BODY,
  },
  { id: 'incidents.resolve', method: 'POST', path: '/api/incidents/:id/resolve', access: key('incidents:write'), plane: 'control', body: STATUS_CHANGE_BODY },
  { id: 'queue.get', method: 'GET', path: '/api/queue/:queueId', access: key('incidents:read'), plane: 'control' },
  { id: 'triage.list', method: 'GET', path: '/api/triage/requests', access: key('incidents:read'), plane: 'control', query: TRIAGE_QUERY },
  { id: 'store.check', method: 'POST', path: '/api/store/integrity-check', access: key('admin'), plane: 'control' },
  { id: 'store.backup', method: 'POST', path: '/api/store/backup', access: key('admin'), plane: 'control' },
  { id: 'store.renormalize', method: 'POST', path: '/api/store/renormalize', access: key('admin'), plane: 'control', body: RENORMALIZE_BODY },
  { id: 'jobs.list', method: 'GET', path: '/api/jobs', access: key('admin'), plane: 'control', query: JOBS_QUERY },
  { id: 'jobs.get', method: 'GET', path: '/api/jobs/:id', access: key('admin'), plane: 'control' },
] as const satisfies readonly RouteRow[];

export type RouteId = (typeof ROUTES)[number]['id'];

/**
 * Whether a listener serves a plane in a mode: the one table of where each route can be reached.
 * The receiver listener (what the internet reaches) answers the receiver and the probes, never
 * the API or the metrics; PORT serves everything in `all` (so `npm start` and the spec's examples
 * work on one port), the probes and metrics in `receiver`, and all but the receiver in `control`.
 */
export function servedOn(plane: Plane, listener: Listener, mode: Mode): boolean {
  if (listener === 'receiver') return mode !== 'control' && (plane === 'receiver' || plane === 'probe');
  if (mode === 'all') return true;
  if (mode === 'receiver') return plane === 'probe' || plane === 'metrics';
  return plane !== 'receiver';
}

/** A route's middleware: Koa's, with the route's `ctx.params`. */
export type RouteMiddleware = RouterMiddleware<RequestState>;
/** What serves each route: one or more middleware after the authorization check. */
export type RouteHandlers = Record<RouteId, RouteMiddleware | readonly RouteMiddleware[]>;

/** The handlers a process built: only those of the planes its mode runs. */
export type BuiltHandlers = Partial<RouteHandlers>;

/** Turns a row's access into the check that runs once the row matched (see http/api/auth.ts). */
export type Authorize = (access: Access) => RequestMiddleware | undefined;

/**
 * A listener's router, from the rows it serves (a row it does not serve is no route there: 404):
 * case-sensitive and strict, so `/API/apikeys`, `/api/apikeys/` and
 * `/api//apikeys` match nothing rather than a route whose check a prefix would have missed. Each
 * route's chain starts with its own authorization, so the check and the match cannot disagree.
 */
export function tableRouter(handlers: BuiltHandlers, authorize: Authorize, serves: (row: RouteRow) => boolean): Router<RequestState> {
  const router = new Router<RequestState>({ sensitive: true, strict: true });
  for (const row of (ROUTES as readonly RouteRow[]).filter(serves)) {
    const check = authorize(row.access);
    const handler = handlers[row.id as RouteId];
    if (handler === undefined) throw new Error(`route ${row.id} is served here but this process built no handler for it`);
    const chain = [...(check ? [check] : []), ...(typeof handler === 'function' ? [handler] : handler)];
    router.register(row.path, [row.method], chain, { name: row.id });
  }
  return router;
}
