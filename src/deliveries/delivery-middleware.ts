import type { Middleware } from 'koa';
import type { DeliveryRecorder } from './delivery-recorder.js';

/**
 * Records every webhook request once its response is settled (accepted or rejected). Sits outside
 * the error middleware, so it sees the final status and error body; recording is a memory append.
 */
export function recordDeliveries(recorder: DeliveryRecorder): Middleware {
  return async (ctx, next) => {
    const startedAt = performance.now();
    try {
      await next();
    } finally {
      const source = ctx.state.sourceLabel as string | undefined;
      if (source !== undefined) {
        const body = (ctx.body ?? {}) as { incident_id?: unknown; queue_id?: unknown; error?: { code?: unknown } };
        recorder.record({
          at: new Date().toISOString(),
          source,
          status: ctx.status,
          code: typeof body.error?.code === 'string' ? body.error.code : null,
          latencyMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
          incidentId: typeof body.incident_id === 'string' ? body.incident_id : null,
          queueId: typeof body.queue_id === 'string' ? body.queue_id : null,
          remoteAddress: ctx.ip || null,
        });
      }
    }
  };
}
