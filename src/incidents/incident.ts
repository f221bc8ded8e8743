import type { DeliveryFacts, IncidentDraft, NewIncident, TriageInfo } from './model.js';

/** The initial triage state: a pending outbox entry when auto-triage asked for a playbook. */
export function initialTriage(playbook: string | null, receivedAt: string): TriageInfo {
  return {
    state: playbook ? 'pending' : 'none',
    playbook,
    attempts: 0,
    lastError: null,
    nextAttemptAt: playbook ? receivedAt : null,
    dispatchedAt: null,
  };
}

/**
 * The normalized fields of anything that extends a draft, copied one by one: only the contract's
 * keys, and fast. Incidents are built as `Object.assign(draftFields(x), rest)`, never as
 * `{ ...x, more }`: V8 (Node 20) copies a spread followed by more properties through a slow runtime
 * path, about 4 µs per object here, which was a tenth of a request's CPU.
 */
export function draftFields(draft: IncidentDraft): IncidentDraft {
  return {
    format: draft.format,
    eventType: draft.eventType,
    title: draft.title,
    severity: draft.severity,
    vendorSeverity: draft.vendorSeverity,
    incidentType: draft.incidentType,
    occurredAt: draft.occurredAt,
    externalId: draft.externalId,
    observables: draft.observables,
    mitre: draft.mitre,
  };
}

/** The incident a delivery makes, built whole from its draft (one copy of the draft's fields): only the store's number is missing. */
export function newIncident(draft: IncidentDraft, delivery: DeliveryFacts): NewIncident {
  return Object.assign(draftFields(draft), {
    id: delivery.id,
    source: delivery.source,
    receivedAt: delivery.receivedAt,
    dedupeKey: delivery.dedupeKey,
    raw: delivery.raw,
    labels: delivery.labels,
    status: 'new' as const,
    triage: initialTriage(delivery.triagePlaybook, delivery.receivedAt),
  });
}
