import type { Context } from 'koa';
import type { DeliveryRecord } from '../store/store.js';

/** The delivery log's record of a settled webhook request, read from its final status and body. */
export function deliveryRecord(ctx: Context, source: string, latencyMs: number): DeliveryRecord {
  const body = (ctx.body ?? {}) as { incident_id?: unknown; queue_id?: unknown; error?: { code?: unknown } };
  return {
    at: new Date().toISOString(),
    source,
    status: ctx.status,
    code: typeof body.error?.code === 'string' ? body.error.code : null,
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    incidentId: typeof body.incident_id === 'string' ? body.incident_id : null,
    queueId: typeof body.queue_id === 'string' ? body.queue_id : null,
    remoteAddress: ctx.ip || null,
  };
}
