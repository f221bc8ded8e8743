import { randomUUID } from 'node:crypto';
import type { Incident } from '../incidents/model.js';
import type { Source } from '../sources/source.js';
import type { IncidentStore, QueueOutcome } from '../incidents/ports.js';
import { parsePayload } from '../normalize/parse.js';
import { normalize, normalizerVersion } from '../normalize/index.js';
import { applyFilter } from '../filters/filter.js';
import { dedupeKey } from '../incidents/dedupe.js';
import { signedEventId } from '../verify/index.js';
import { newIncident } from '../incidents/incident.js';
import { isTestEvent } from '../normalize/test-event.js';
import { domainError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';

/** A verified webhook delivery, as the route (or the queue worker, later) hands it over. */
export interface WebhookEvent {
  rawBody: Buffer;
  /** Lower-cased header names, as node parses them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  receivedAt: Date;
}

/**
 * Stored (`created` false for a duplicate), or filtered out by the source's filter. `filterErrors`
 * are the filter's expressions that could not be evaluated on this event (they changed nothing).
 */
export type IngestOutcome = ({ filtered: false; created: boolean; incident: Incident } | { filtered: true }) & { filterErrors: readonly string[] };

export type Ingest = (source: Source, event: WebhookEvent) => Promise<Result<IngestOutcome>>;

/** A queue entry's end when its delivery was ingested: the incident it became, or none if filtered out. */
export function doneOutcome(outcome: IngestOutcome): QueueOutcome & { status: 'done' } {
  return outcome.filtered
    ? { status: 'done', incidentId: null, incidentNumber: null }
    : { status: 'done', incidentId: outcome.incident.id, incidentNumber: outcome.incident.number };
}

/**
 * The ingest use-case: parse → normalize → the source's filter → dedupe key → durable insert. A
 * bad payload is a value (invalid_payload); a store outage throws StoreUnavailableError for the
 * error middleware. A filtered event is never stored.
 */
export function createIngest(store: IncidentStore, newId: () => string = randomUUID): Ingest {
  return async (source, event) => {
    const parsed = parsePayload(event.rawBody);
    if (!parsed.ok) return err(domainError('invalid_payload', parsed.error));
    const normalized = normalize(parsed.value.payload, source);
    if (!normalized.ok) return err(domainError('invalid_payload', normalized.error));
    const draft = normalized.value;
    const outcome = source.filter ? applyFilter(source.filter, parsed.value.payload, draft, source.name) : undefined;
    const filterErrors = outcome?.errors ?? [];
    if (outcome?.filtered) return ok({ filtered: true, filterErrors });
    if (outcome?.severity) draft.severity = outcome.severity;
    const key = dedupeKey({
      signedId: signedEventId(source.verification, event.headers),
      externalId: draft.externalId,
      format: draft.format,
      rawBody: event.rawBody,
    });
    if (!key.ok) return key;
    // A test event is stored like any other but never asks for triage.
    const test = isTestEvent(parsed.value.payload);
    const result = await store.insertIncident(
      newIncident(
        draft,
        {
          id: newId(),
          source: source.name,
          receivedAt: event.receivedAt.toISOString(),
          dedupeKey: key.value,
          raw: parsed.value.text,
          labels: outcome?.labels ?? {},
          triagePlaybook: source.autoTriage && !test ? (source.playbook ?? null) : null,
          test,
        },
        normalizerVersion(draft.format),
      ),
    );
    return ok({ filtered: false, created: result.created, incident: result.incident, filterErrors });
  };
}
