import type { InboxStore, QueueEntry } from '../../incidents/ports.js';
import { DomainError } from '../../core/errors.js';
import type { RouteHandlers } from '../routes.js';

/** The public shape of a queue entry (no body, no headers). */
function queueEntryJson(entry: QueueEntry) {
  return {
    queue_id: entry.id,
    source: entry.source,
    status: entry.status,
    attempts: entry.attempts,
    last_error: entry.lastError,
    received_at: entry.receivedAt,
    updated_at: entry.updatedAt,
    /** queued: next attempt not before; processing: lease end. */
    due_at: entry.status === 'queued' || entry.status === 'processing' ? entry.dueAt : null,
    claimed_by: entry.claimedBy,
    incident_id: entry.incidentId,
    incident_number: entry.incidentNumber,
  };
}

/** `GET /api/queue/:queue_id`: where a `202 queued` delivery is (queued, processing, done, dead). */
export function queueHandlers(inbox: InboxStore): Pick<RouteHandlers, 'queue.get'> {
  return {
    'queue.get': async (ctx) => {
      const id = String(ctx.params.queueId);
      const entry = await inbox.getEntry(id);
      if (!entry) throw new DomainError('not_found', `Queue entry '${id.slice(0, 64)}' not found`);
      ctx.body = queueEntryJson(entry);
    },
  };
}
