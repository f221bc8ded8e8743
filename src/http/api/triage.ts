import type { TriageOutboxStore } from '../../incidents/ports.js';
import { routeQuery } from './validation.js';
import type { TRIAGE_STATES } from './schemas.js';
import type { RouteHandlers } from '../routes.js';

const parseQuery = routeQuery<{ state: (typeof TRIAGE_STATES)[number]; limit: number }>('triage.list');

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
