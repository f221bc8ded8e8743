import type { TriageOutboxStore } from '../../incidents/ports.js';
import { limitParameter, queryParser } from './query.js';
import type { RouteHandlers } from '../routes.js';

const STATES = ['pending', 'dispatched', 'failed'] as const;

const parseQuery = queryParser<{ state: (typeof STATES)[number]; limit: number }>({
  state: { type: 'string', enum: STATES, default: 'pending' },
  limit: limitParameter(50, 500),
});

/** `GET /api/triage/requests?state=pending|dispatched|failed&limit=`: the auto-triage outbox. */
export function triageHandlers(outbox: TriageOutboxStore): Pick<RouteHandlers, 'triage.list'> {
  return {
    'triage.list': async (ctx) => {
      const incidents = await outbox.listTriage(parseQuery(ctx.querystring));
      ctx.body = {
        items: incidents.map((incident) => ({
          request_id: incident.id,
          incident_id: incident.id,
          incident_number: incident.number,
          source: incident.source,
          playbook: incident.triage.playbook,
          state: incident.triage.state,
          attempts: incident.triage.attempts,
          last_error: incident.triage.lastError,
          next_attempt_at: incident.triage.nextAttemptAt,
          dispatched_at: incident.triage.dispatchedAt,
        })),
      };
    },
  };
}
