import Router from '@koa/router';
import { SEVERITIES, type IncidentStatus, type Severity } from '../../incidents/model.js';
import type { IncidentQuery, IncidentStore } from '../../store/store.js';
import { decodeCursor } from '../../store/cursor.js';
import { DomainError } from '../../core/errors.js';
import { incidentJson } from './incident-json.js';

const STATUSES: readonly IncidentStatus[] = ['new', 'triaging', 'triaged', 'closed'];
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/** `GET /api/incidents` (filters, keyset pagination) and `GET /api/incidents/:id` (id or number). */
export function incidentsRouter(store: IncidentStore): Router {
  const router = new Router({ prefix: '/incidents' });
  router.get('/', async (ctx) => {
    const page = await store.listIncidents(parseQuery(new URLSearchParams(ctx.querystring)));
    ctx.body = { items: page.items.map(incidentJson), next: page.next };
  });
  router.get('/:id', async (ctx) => {
    const incident = await store.getIncident(String(ctx.params.id));
    if (!incident) throw new DomainError('not_found', `Incident '${String(ctx.params.id).slice(0, 64)}' not found`);
    ctx.body = incidentJson(incident);
  });
  return router;
}

function parseQuery(params: URLSearchParams): IncidentQuery {
  const query: IncidentQuery = { limit: parseLimit(params.get('limit')) };
  const source = params.get('source');
  if (source) query.source = source;
  const severity = params.get('severity');
  if (severity) query.severity = oneOf(severity, SEVERITIES, 'severity') as Severity;
  const status = params.get('status');
  if (status) query.status = oneOf(status, STATUSES, 'status') as IncidentStatus;
  const since = params.get('since');
  if (since) query.since = isoTime(since, 'since');
  const until = params.get('until');
  if (until) query.until = isoTime(until, 'until');
  const cursor = params.get('cursor');
  if (cursor) {
    const after = decodeCursor(cursor);
    if (!after) throw new DomainError('bad_request', 'Invalid pagination cursor');
    query.after = after;
  }
  return query;
}

function parseLimit(value: string | null): number {
  if (value === null) return DEFAULT_PAGE;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new DomainError('bad_request', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

function oneOf(value: string, allowed: readonly string[], name: string): string {
  if (!allowed.includes(value)) throw new DomainError('bad_request', `${name} must be one of ${allowed.join(', ')}`);
  return value;
}

function isoTime(value: string, name: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new DomainError('bad_request', `${name} must be an ISO-8601 time`);
  return new Date(time).toISOString();
}
