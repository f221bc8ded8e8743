import Router from '@koa/router';
import type { DeliveryLogStore, DeliveryRecord } from '../../store/store.js';
import { boundedLimit } from './triage.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export function deliveryJson(record: DeliveryRecord) {
  return {
    at: record.at,
    source: record.source,
    status: record.status,
    code: record.code,
    latency_ms: record.latencyMs,
    incident_id: record.incidentId,
    queue_id: record.queueId,
    remote_address: record.remoteAddress,
  };
}

/** `GET /api/deliveries?source=&limit=`: the newest webhook requests first (for `tw-cli logs`). */
export function deliveriesRouter(log: DeliveryLogStore): Router {
  const router = new Router({ prefix: '/deliveries' });
  router.get('/', async (ctx) => {
    const params = new URLSearchParams(ctx.querystring);
    const source = params.get('source') ?? undefined;
    const records = await log.listDeliveries({ source, limit: boundedLimit(params.get('limit'), DEFAULT_LIMIT, MAX_LIMIT) });
    ctx.body = { items: records.map(deliveryJson) };
  });
  return router;
}
