import type { Incident, NewIncident, TriageInfo } from './model.js';

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

/** The stored incident for a new one once the store has allocated its number. */
export function toIncident(incident: NewIncident, number: string): Incident {
  const { triagePlaybook, ...fields } = incident;
  return { ...fields, number, status: 'new', triage: initialTriage(triagePlaybook, incident.receivedAt) };
}
