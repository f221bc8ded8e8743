import { Readable } from 'node:stream';
import type { Incident, IncidentStatus, Severity } from '../../incidents/model.js';
import type { IncidentPage, IncidentQuery, IncidentStore } from '../../incidents/ports.js';
import { decodeCursor } from '../../incidents/cursor.js';
import { DomainError } from '../../core/errors.js';
import { incidentSummaryJson } from '../../wire/incident.js';
import { routeQuery } from './validation.js';
import type { RouteHandlers } from '../routes.js';

/** A page stops growing past this many bytes of JSON (the `next` cursor continues it), whatever `limit` says. */
const PAGE_BYTE_BUDGET = 1024 * 1024;

interface ListQuery {
  limit: number;
  source?: string;
  severity?: Severity;
  status?: IncidentStatus;
  since?: string;
  until?: string;
  cursor?: string;
}

const parseListQuery = routeQuery<ListQuery>('incidents.list');

/** `GET /api/incidents` (filters, keyset pagination, summaries) and `GET /api/incidents/:id` (id or number, with the raw body). */
export function incidentsHandlers(store: IncidentStore): Pick<RouteHandlers, 'incidents.list' | 'incidents.get'> {
  return {
    'incidents.list': async (ctx) => {
      const page = await store.listIncidents(storeQuery(parseListQuery(ctx.querystring)));
      ctx.type = 'application/json';
      ctx.body = Readable.from(pageJson(page));
    },
    'incidents.get': async (ctx) => {
      const incident = await store.getIncident(String(ctx.params.id));
      if (!incident) throw new DomainError('not_found', `Incident '${String(ctx.params.id).slice(0, 64)}' not found`);
      ctx.type = 'application/json';
      ctx.body = Readable.from(incidentWithRawJson(incident));
    },
  };
}

function storeQuery(query: ListQuery): IncidentQuery {
  const { cursor, since, until, ...filters } = query;
  const result: IncidentQuery = { ...filters, maxBytes: PAGE_BYTE_BUDGET };
  if (since) result.since = new Date(since).toISOString();
  if (until) result.until = new Date(until).toISOString();
  if (cursor) {
    const after = decodeCursor(cursor);
    if (!after) throw new DomainError('bad_request', 'Invalid pagination cursor');
    result.after = after;
  }
  return result;
}

/** Code units of the raw body escaped and written at a time. */
const RAW_CHUNK = 64 * 1024;

/**
 * The incident with its raw body (up to the source's body limit), the body escaped and written a
 * chunk at a time, so the answer is never a second whole copy. A chunk boundary may split a
 * surrogate pair: each half is written as its `\uXXXX` escape, which JSON readers join again.
 */
function* incidentWithRawJson(incident: Incident): Generator<string> {
  const summary = JSON.stringify(incidentSummaryJson(incident));
  yield `${summary.slice(0, -1)},"raw":"`;
  for (let at = 0; at < incident.raw.length; at += RAW_CHUNK) yield JSON.stringify(incident.raw.slice(at, at + RAW_CHUNK)).slice(1, -1);
  yield '"}';
}

/** `{"items":[…],"next":…}` written item by item, so a page is never one big string. */
function* pageJson(page: IncidentPage): Generator<string> {
  yield '{"items":[';
  let separator = '';
  for (const item of page.items) {
    yield separator + JSON.stringify(incidentSummaryJson(item));
    separator = ',';
  }
  yield `],"next":${JSON.stringify(page.next)}}`;
}
