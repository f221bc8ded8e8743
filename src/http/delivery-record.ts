import type { BlockList } from 'node:net';
import type { DeliveryRecord } from '../incidents/ports.js';
import { clientAddress } from './client-address.js';
import type { RequestContext } from './state.js';

/** The delivery log's record of a settled webhook request, from its status and what the route and error middleware left in state. */
export function deliveryRecord(ctx: RequestContext, source: string, latencyMs: number, trustedProxies: BlockList): DeliveryRecord {
  const { state } = ctx;
  return {
    at: new Date().toISOString(),
    source,
    status: ctx.status,
    // A filtered delivery is a success with a code of its own, so the log tells it from a stored one.
    code: state.errorCode ?? (state.filtered ? 'filtered' : null),
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    incidentId: state.incidentId ?? null,
    incidentNumber: state.incidentNumber ?? null,
    queueId: state.queueId ?? null,
    remoteAddress:
      state.clientAddress !== undefined ? state.clientAddress : clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], trustedProxies),
  };
}
