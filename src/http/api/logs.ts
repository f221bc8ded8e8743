import { PassThrough } from 'node:stream';
import type { DeliveryLogStore, DeliveryRecord } from '../../incidents/ports.js';
import type { RouteHandlers } from '../routes.js';
import type { DeliveryFollower } from '../../workers/delivery-recorder.js';
import { deliveryJson } from '../../wire/delivery.js';
import { routeQuery } from './validation.js';
import { LOGS_QUERY } from './schemas.js';

/** Other replicas' records reach a follower through the store, this often: slow on purpose. */
const REPLICA_POLL_MS = 5_000;
const HEARTBEAT_MS = 15_000;
/** Records already sent to a follower, remembered to skip them when the store poll returns them. */
const MAX_REMEMBERED = 5_000;

export interface LogsDeps {
  store: DeliveryLogStore;
  /** This replica's live feed (DeliveryRecorder.follow). */
  follow: (follower: DeliveryFollower) => () => void;
  replicaPollMs?: number;
}

/**
 * `GET /api/logs?filter=webhook&tail=N&source=S[&follow=true]`: the delivery log, oldest of the tail
 * first, like `tail`. With `follow=true` the answer is Server-Sent Events: the tail, then each new
 * record as this replica settles it (an in-process feed, no store polling per record) and, every
 * few seconds, what other replicas wrote to the store.
 */
const parseQuery = routeQuery<{ filter: 'webhook'; source?: string; tail: number; follow: boolean }>('logs.list');

export function logsHandlers(deps: LogsDeps): Pick<RouteHandlers, 'logs.list'> {
  return {
    'logs.list': async (ctx) => {
      const { source, tail, follow } = parseQuery(ctx.querystring);
      const records = (await deps.store.listDeliveries({ source, limit: tail })).reverse();
      if (!follow) return void (ctx.body = { items: records.map(deliveryJson) });

      ctx.req.socket.setTimeout(0);
      ctx.req.socket.setNoDelay(true);
      ctx.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
      ctx.status = 200;
      const stream = new PassThrough();
      ctx.body = stream;
      const sent = new Set<string>();
      const send = (record: DeliveryRecord) => {
        const key = recordKey(record);
        if (sent.has(key) || (source !== undefined && record.source !== source)) return;
        if (sent.size >= MAX_REMEMBERED) sent.clear();
        sent.add(key);
        stream.write(`event: delivery\ndata: ${JSON.stringify(deliveryJson(record))}\n\n`);
      };
      records.forEach(send);
      const unfollow = deps.follow({ record: send, end: () => stream.end() });
      let newest = records.at(-1)?.at ?? new Date().toISOString();
      const poll = setInterval(() => {
        deps.store.listDeliveries({ source, limit: LOGS_QUERY.tail.maximum }).then(
          (latest) => {
            for (const record of latest.reverse()) if (record.at >= newest) send(record);
            newest = latest.at(-1)?.at ?? newest;
          },
          () => undefined, // the next round tries again; the local feed keeps flowing meanwhile
        );
      }, deps.replicaPollMs ?? REPLICA_POLL_MS);
      const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
      ctx.req.once('close', () => {
        unfollow();
        clearInterval(poll);
        clearInterval(heartbeat);
        stream.end();
      });
    },
  };
}

/** Delivery records carry no id; these fields together tell two apart in practice. */
function recordKey(record: DeliveryRecord): string {
  return `${record.at}|${record.source}|${record.status}|${record.latencyMs}|${record.remoteAddress}|${record.incidentId}|${record.queueId}`;
}
