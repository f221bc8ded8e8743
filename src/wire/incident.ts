import type { Incident, IncidentSummary, StatusChange, TriageInfo } from '../incidents/model.js';

/** The public snake_case shape of an incident (read API, CLI, triage runner): the summary and the raw body. */
export function incidentJson(incident: Incident) {
  return Object.assign(incidentSummaryJson(incident), { raw: incident.raw });
}

/** An incident as lists show it: no raw body. */
export function incidentSummaryJson(incident: IncidentSummary) {
  return {
    incident_id: incident.id,
    incident_number: incident.number,
    source: incident.source,
    format: incident.format,
    event_type: incident.eventType,
    title: incident.title,
    severity: incident.severity,
    vendor_severity: incident.vendorSeverity,
    incident_type: incident.incidentType,
    status: incident.status,
    test: incident.test,
    acknowledged: statusChangeJson(incident.acknowledged),
    resolved: statusChangeJson(incident.resolved),
    occurred_at: incident.occurredAt,
    received_at: incident.receivedAt,
    external_id: incident.externalId,
    dedupe_key: incident.dedupeKey,
    observables: incident.observables,
    mitre: incident.mitre,
    normalizer_version: incident.normalizerVersion,
    labels: incident.labels,
    triage: triageJson(incident.triage),
  };
}

/** An incident's triage state in the API's names. */
export function triageJson(triage: TriageInfo) {
  return {
    state: triage.state,
    playbook: triage.playbook,
    attempts: triage.attempts,
    last_error: triage.lastError,
    next_attempt_at: triage.nextAttemptAt,
    dispatched_at: triage.dispatchedAt,
  };
}

function statusChangeJson(change: StatusChange | null) {
  return change && { at: change.at, by: change.by, key_id: change.keyId, note: change.note };
}
