import { Readable } from 'node:stream';
import type { IncidentStatus, Severity } from '../../incidents/model.js';
import type { IncidentPage, IncidentQuery, IncidentStore } from '../../incidents/ports.js';
import { changeStatus, type StatusTarget } from '../../incidents/status.js';
import type { RouteMiddleware } from '../routes.js';
import { jsonBody, validBody } from './json-body.js';
import { decodeCursor } from '../../incidents/cursor.js';
import { DomainError } from '../../core/errors.js';
import { incidentSummaryJson } from '../../wire/incident.js';
import { OCSF_MEDIA_TYPE, ocsfFindingWithoutRaw } from '../../wire/ocsf.js';
import { routeBody, routeQuery } from './validation.js';
import type { RouteHandlers } from '../routes.js';

/** A page stops growing past this many bytes of JSON (the `next` cursor continues it), whatever `limit` says. */
const PAGE_BYTE_BUDGET = 1024 * 1024;

interface ListQuery {
  limit: number;
  source?: string;
  severity?: Severity;
  status?: IncidentStatus;
  test?: boolean;
  since?: string;
  until?: string;
  cursor?: string;
}

const parseListQuery = routeQuery<ListQuery>('incidents.list');

const validateStatusChange = routeBody<{ note?: string }>('incidents.acknowledge');

/**
 * `GET /api/incidents` (filters, keyset pagination, summaries), `GET /api/incidents/:id` (id or
 * number, with the raw body: our JSON, or an OCSF Detection Finding when the Accept header prefers
 * `application/vnd.ocsf+json`, docs/api.md) and the status changes, recorded with the calling key
 * and the time.
 */
export function incidentsHandlers(
  store: IncidentStore,
  nowMs: () => number,
): Pick<RouteHandlers, 'incidents.list' | 'incidents.get' | 'incidents.acknowledge' | 'incidents.resolve'> {
  const statusRoute = (to: StatusTarget): RouteMiddleware[] => [
    jsonBody(),
    async (ctx) => {
      // No body (the parser makes it {}) is a change without a note.
      const { note } = validBody(ctx, validateStatusChange);
      const principal = ctx.state.principal!;
      const result = await changeStatus(store, String(ctx.params.id), to, {
        at: new Date(nowMs()).toISOString(),
        by: principal.name,
        keyId: principal.keyId,
        note: note ?? null,
      });
      if (!result.ok) throw result.error;
      ctx.body = incidentSummaryJson(result.value);
    },
  ];
  return {
    'incidents.acknowledge': statusRoute('acknowledged'),
    'incidents.resolve': statusRoute('resolved'),
    'incidents.list': async (ctx) => {
      const page = await store.listIncidents(storeQuery(parseListQuery(ctx.querystring)));
      ctx.type = 'application/json';
      ctx.body = Readable.from(pageJson(page));
    },
    'incidents.get': async (ctx) => {
      const incident = await store.getIncident(String(ctx.params.id));
      if (!incident) throw new DomainError('not_found', `Incident '${String(ctx.params.id).slice(0, 64)}' not found`);
      ctx.vary('Accept');
      const ocsf = ctx.accepts('application/json', OCSF_MEDIA_TYPE) === OCSF_MEDIA_TYPE;
      ctx.type = ocsf ? OCSF_MEDIA_TYPE : 'application/json';
      // Once retention dropped the raw body: `"raw": null` in ours, no `raw_data` (optional) in OCSF.
      const { raw } = incident;
      if (ocsf)
        ctx.body = Readable.from(
          raw === null ? [JSON.stringify(ocsfFindingWithoutRaw(incident))] : withLongString(ocsfFindingWithoutRaw(incident), 'raw_data', raw),
        );
      else
        ctx.body = Readable.from(
          raw === null ? [JSON.stringify({ ...incidentSummaryJson(incident), raw })] : withLongString(incidentSummaryJson(incident), 'raw', raw),
        );
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
 * `object` with `text` (a raw body, up to the source's body limit) as its last field, the text
 * escaped and written a chunk at a time, so the answer is never a second whole copy. A chunk
 * boundary may split a surrogate pair: each half is written as its `\uXXXX` escape, which JSON
 * readers join again.
 */
function* withLongString(object: object, key: string, text: string): Generator<string> {
  const head = JSON.stringify(object);
  yield `${head.slice(0, -1)},${JSON.stringify(key)}:"`;
  for (let at = 0; at < text.length; at += RAW_CHUNK) yield JSON.stringify(text.slice(at, at + RAW_CHUNK)).slice(1, -1);
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
