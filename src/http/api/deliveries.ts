import type { DeliveryLogStore } from '../../incidents/ports.js';
import { deliveryJson } from '../../wire/delivery.js';
import { routeQuery } from './validation.js';
import type { RouteHandlers } from '../routes.js';

const parseQuery = routeQuery<{ source?: string; limit: number }>('deliveries.list');

/** `GET /api/deliveries?source=&limit=`: the newest webhook requests first (for `tw-cli logs`). */
export function deliveriesHandlers(log: DeliveryLogStore): Pick<RouteHandlers, 'deliveries.list'> {
  return {
    'deliveries.list': async (ctx) => {
      const records = await log.listDeliveries(parseQuery(ctx.querystring));
      ctx.body = { items: records.map(deliveryJson) };
    },
  };
}
