import type { Incident, Observables, TriageInfo } from '../../incidents/model.js';

/**
 * An incident as stored in MongoDB. Every key is one of ours: the payload is kept only as the `raw`
 * string, so a hostile body (`$` or dotted keys, `__proto__`) never becomes a field name.
 */
export interface IncidentDocument {
  _id: string;
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
  status: Incident['status'];
  triage: TriageInfo;
  /** The dispatcher holding the current triage lease, if any (not part of the incident). */
  triageClaimedBy?: string | null;
  raw: string;
}

export function toDocument(incident: Incident): IncidentDocument {
  return {
    _id: incident.id,
    number: incident.number,
    source: incident.source,
    dedupeKey: incident.dedupeKey,
    receivedAt: incident.receivedAt,
    format: incident.format,
    eventType: incident.eventType,
    title: incident.title,
    severity: incident.severity,
    vendorSeverity: incident.vendorSeverity,
    incidentType: incident.incidentType,
    occurredAt: incident.occurredAt,
    externalId: incident.externalId,
    observables: copyObservables(incident.observables),
    status: incident.status,
    triage: copyTriage(incident.triage),
    raw: incident.raw,
  };
}

export function fromDocument(document: IncidentDocument): Incident {
  return {
    id: document._id,
    number: document.number,
    source: document.source,
    dedupeKey: document.dedupeKey,
    receivedAt: document.receivedAt,
    format: document.format,
    eventType: document.eventType,
    title: document.title,
    severity: document.severity,
    vendorSeverity: document.vendorSeverity,
    incidentType: document.incidentType,
    occurredAt: document.occurredAt,
    externalId: document.externalId,
    observables: copyObservables(document.observables),
    status: document.status,
    triage: copyTriage(document.triage),
    raw: document.raw,
  };
}

function copyObservables(observables: Observables): Observables {
  const { hosts, users, emails, ips, hashes, urls } = observables;
  return { hosts, users, emails, ips, hashes, urls };
}

function copyTriage(triage: TriageInfo): TriageInfo {
  const { state, playbook, attempts, lastError, nextAttemptAt, dispatchedAt } = triage;
  return { state, playbook, attempts, lastError, nextAttemptAt, dispatchedAt };
}
