import type { TriageInfo } from '../incidents/model.js';
import type { TriageOutcome } from '../incidents/ports.js';

/** The triage fields an attempt's outcome changes (both stores apply exactly these). */
export function triageChanges(outcome: TriageOutcome): Partial<TriageInfo> {
  switch (outcome.state) {
    case 'dispatched':
      return { state: 'dispatched', lastError: null, nextAttemptAt: null, dispatchedAt: outcome.at };
    case 'pending':
      return { state: 'pending', lastError: outcome.error, nextAttemptAt: outcome.nextAttemptAt };
    case 'failed':
      return { state: 'failed', lastError: outcome.error, nextAttemptAt: null };
  }
}
