import Router from '@koa/router';
import type { TriageOutboxStore } from '../../store/store.js';
import { DomainError } from '../../core/errors.js';

const STATES = ['pending', 'dispatched', 'failed'] as const;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/** `GET /api/triage/requests?state=pending|dispatched|failed&limit=`: the auto-triage outbox. */
export function triageRouter(outbox: TriageOutboxStore): Router {
  const router = new Router({ prefix: '/triage' });
  router.get('/requests', async (ctx) => {
    const params = new URLSearchParams(ctx.querystring);
    const state = params.get('state') ?? 'pending';
    if (!(STATES as readonly string[]).includes(state)) throw new DomainError('bad_request', `state must be one of ${STATES.join(', ')}`);
    const limit = boundedLimit(params.get('limit'), DEFAULT_LIMIT, MAX_LIMIT);
    const incidents = await outbox.listTriage({ state: state as (typeof STATES)[number], limit });
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
  });
  return router;
}

/** A `limit` query parameter from 1 to max (400 otherwise); shared by the admin list routes. */
export function boundedLimit(value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new DomainError('bad_request', `limit must be an integer from 1 to ${max}`);
  return limit;
}
