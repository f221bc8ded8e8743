import Router from '@koa/router';
import type { DeliveryLogStore, DeliveryRecord } from '../../store/store.js';
import { limitParameter, queryParser } from './query.js';

const parseQuery = queryParser<{ source?: string; limit: number }>({
  source: { type: 'string', maxLength: 253 },
  limit: limitParameter(100, 1000),
});

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
    const records = await log.listDeliveries(parseQuery(ctx.querystring));
    ctx.body = { items: records.map(deliveryJson) };
  });
  return router;
}
