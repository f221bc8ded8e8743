import type { Incident, NewIncident } from '../../incidents/model.js';
import type { InsertResult } from '../../incidents/ports.js';
import { currentShape } from '../stored-shape.js';

/*
 * An insert as it crosses to the store thread and back. Strings cross a thread at memcpy cost; an
 * incident object costs about 5 µs to clone each way, and an insert used to cross as one and come
 * back as another: a quarter of the event loop's own work per request. So the event loop writes
 * the document's JSON (which the store needs anyway) and the thread answers with the number.
 */

/** The stored document as JSON minus its number, and the columns it is indexed by. */
export interface EncodedInsert {
  json: string;
  id: string;
  source: string;
  dedupeKey: string;
  receivedAt: string;
  severity: string;
  /** When the triage outbox entry is due, or null when the incident needs no triage. */
  triageDueAt: string | null;
}

/** The number of the new incident, or the stored JSON of the one it duplicates. */
export type EncodedInsertResult = { number: string } | { existing: string };

/** The incident encoded for the store thread: the domain built it, the thread only adds the number. */
export function encodeInsert(incident: NewIncident): EncodedInsert {
  const { triage } = incident;
  return {
    json: JSON.stringify(incident),
    id: incident.id,
    source: incident.source,
    dedupeKey: incident.dedupeKey,
    receivedAt: incident.receivedAt,
    severity: incident.severity,
    triageDueAt: triage.state === 'pending' ? triage.nextAttemptAt : null,
  };
}

/** The thread's answer as the port's: the new incident completed with its number, or the stored original. */
export function insertResult(answer: EncodedInsertResult, incident: NewIncident): InsertResult {
  if ('number' in answer) return { created: true, incident: Object.assign(incident, { number: answer.number }) };
  return { created: false, incident: parseIncident(answer.existing) };
}

/** A stored document → the incident in today's shape (see currentShape). */
export function parseIncident(doc: string): Incident {
  return currentShape(JSON.parse(doc) as Incident);
}

/** The thread's side: the document as stored, with the number it allocated as its last key. */
export function numberedDocument(json: string, number: string): string {
  return `${json.slice(0, -1)},"number":${JSON.stringify(number)}}`;
}
