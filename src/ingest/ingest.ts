import { randomUUID } from 'node:crypto';
import type { Incident } from '../incidents/model.js';
import type { Source } from '../sources/source.js';
import type { IncidentStore } from '../incidents/ports.js';
import { parsePayload } from '../normalize/parse.js';
import { normalize, normalizerVersion } from '../normalize/index.js';
import { dedupeKey } from '../incidents/dedupe.js';
import { newIncident } from '../incidents/incident.js';
import { domainError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';

/** A verified webhook delivery, as the route (or the queue worker, later) hands it over. */
export interface WebhookEvent {
  rawBody: Buffer;
  /** Lower-cased header names, as node parses them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  receivedAt: Date;
}

export interface IngestOutcome {
  created: boolean;
  incident: Incident;
}

export type Ingest = (source: Source, event: WebhookEvent) => Promise<Result<IngestOutcome>>;

/**
 * The ingest use-case: parse → normalize → dedupe key → durable insert. A bad payload is a value
 * (invalid_payload); a store outage throws StoreUnavailableError for the error middleware.
 */
export function createIngest(store: IncidentStore, newId: () => string = randomUUID): Ingest {
  return async (source, event) => {
    const parsed = parsePayload(event.rawBody);
    if (!parsed.ok) return err(domainError('invalid_payload', parsed.error));
    const draft = normalize(parsed.value.payload, source);
    if (!draft.ok) return err(domainError('invalid_payload', draft.error));
    const key = dedupeKey({ headers: event.headers, externalId: draft.value.externalId, format: draft.value.format, rawBody: event.rawBody });
    if (!key.ok) return key;
    const result = await store.insertIncident(
      newIncident(
        draft.value,
        {
          id: newId(),
          source: source.name,
          receivedAt: event.receivedAt.toISOString(),
          dedupeKey: key.value,
          raw: parsed.value.text,
          triagePlaybook: source.autoTriage ? (source.playbook ?? null) : null,
        },
        normalizerVersion(draft.value.format),
      ),
    );
    return ok({ created: result.created, incident: result.incident });
  };
}
