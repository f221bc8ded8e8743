import type { DeliveryLogStore, DeliveryRecord } from '../../store/store.js';
import { limitParameter, queryParser } from './query.js';
import type { RouteHandlers } from '../routes.js';

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
export function deliveriesHandlers(log: DeliveryLogStore): Pick<RouteHandlers, 'deliveries.list'> {
  return {
    'deliveries.list': async (ctx) => {
      const records = await log.listDeliveries(parseQuery(ctx.querystring));
      ctx.body = { items: records.map(deliveryJson) };
    },
  };
}
