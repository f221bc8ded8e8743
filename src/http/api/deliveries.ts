import type { DeliveryLogStore } from '../../incidents/ports.js';
import { deliveryJson } from '../../wire/delivery.js';
import { limitParameter, queryParser } from './query.js';
import type { RouteHandlers } from '../routes.js';

const parseQuery = queryParser<{ source?: string; limit: number }>({
  source: { type: 'string', maxLength: 253 },
  limit: limitParameter(100, 1000),
});

/** `GET /api/deliveries?source=&limit=`: the newest webhook requests first (for `tw-cli logs`). */
export function deliveriesHandlers(log: DeliveryLogStore): Pick<RouteHandlers, 'deliveries.list'> {
  return {
    'deliveries.list': async (ctx) => {
      const records = await log.listDeliveries(parseQuery(ctx.querystring));
      ctx.body = { items: records.map(deliveryJson) };
    },
  };
}
