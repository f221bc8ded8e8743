import type { Incident, IncidentSummary, Labels, MitreAttack, NewIncident, Observables, StatusChange, TriageInfo } from '../../incidents/model.js';
import { draftFields } from '../../incidents/incident.js';
import { currentShape } from '../stored-shape.js';

/**
 * An incident as stored in MongoDB. Every key is one of ours: the payload is kept only as the `raw`
 * string, so a hostile body (`$` or dotted keys, `__proto__`) never becomes a field name; label
 * names come from the source's filter, whose names the source spec holds to a DNS-label pattern.
 * `_id` is the event's identity (source + dedupe key), so a second insert of the same event is a
 * duplicate-key error on `_id` — exactly-once rests on the one uniqueness every server enforces
 * atomically — and the dedupe lookup is an `_id` lookup (the only one FerretDB 1.x serves without
 * scanning the collection). The incident id (uuid) is `id`.
 */
export interface IncidentDocument {
  _id: string;
  id: string;
  number: string;
  source: string;
  dedupeKey: string;
  receivedAt: string;
  format: Incident['format'];
  eventType: string;
  title: string;
  severity: Incident['severity'];
  vendorSeverity: string | null;
  incidentType: Incident['incidentType'];
  occurredAt: string | null;
  externalId: string | null;
  observables: Observables;
  mitre: MitreAttack;
  status: Incident['status'];
  test: boolean;
  acknowledged: StatusChange | null;
  resolved: StatusChange | null;
  triage: TriageInfo;
  labels: Labels;
  /** The dispatcher holding the current triage lease, if any (not part of the incident). */
  triageClaimedBy?: string | null;
  /** null once retention dropped it. */
  raw: string | null;
  normalizerVersion: number;
}

/** The `_id` of an event: injective for any source and key strings. */
export function eventKey(source: string, dedupeKey: string): string {
  return JSON.stringify([source, dedupeKey]);
}

/** The document of a new incident and the number its insert allocated. */
export function toDocument(incident: NewIncident, number: string): IncidentDocument {
  return Object.assign(draftFields(incident), {
    _id: eventKey(incident.source, incident.dedupeKey),
    id: incident.id,
    number,
    source: incident.source,
    dedupeKey: incident.dedupeKey,
    receivedAt: incident.receivedAt,
    observables: copyObservables(incident.observables),
    mitre: copyMitre(incident.mitre),
    status: incident.status,
    test: incident.test,
    acknowledged: copyChange(incident.acknowledged),
    resolved: copyChange(incident.resolved),
    triage: copyTriage(incident.triage),
    labels: { ...incident.labels },
    raw: incident.raw,
    normalizerVersion: incident.normalizerVersion,
  });
}

export function fromDocument(document: IncidentDocument): Incident {
  return Object.assign(summaryFromDocument(document), { raw: document.raw });
}

export function summaryFromDocument(stored: Omit<IncidentDocument, 'raw'>): IncidentSummary {
  const document = currentShape(stored);
  return Object.assign(draftFields(document), {
    id: document.id,
    number: document.number,
    source: document.source,
    dedupeKey: document.dedupeKey,
    receivedAt: document.receivedAt,
    observables: copyObservables(document.observables),
    mitre: copyMitre(document.mitre),
    status: document.status,
    test: document.test,
    acknowledged: copyChange(document.acknowledged),
    resolved: copyChange(document.resolved),
    triage: copyTriage(document.triage),
    labels: { ...document.labels },
    normalizerVersion: document.normalizerVersion,
  });
}

function copyChange(change: StatusChange | null): StatusChange | null {
  return change && { at: change.at, by: change.by, keyId: change.keyId, note: change.note };
}

function copyObservables(observables: Observables): Observables {
  const { hosts, users, emails, ips, hashes, urls, domains, processes, files, md5, sha1, sha256 } = observables;
  return { hosts, users, emails, ips, hashes, urls, domains, processes, files, md5, sha1, sha256 };
}

function copyMitre(mitre: MitreAttack): MitreAttack {
  return { tactics: mitre.tactics, techniques: mitre.techniques };
}

function copyTriage(triage: TriageInfo): TriageInfo {
  const { state, playbook, attempts, lastError, nextAttemptAt, dispatchedAt } = triage;
  return { state, playbook, attempts, lastError, nextAttemptAt, dispatchedAt };
}
