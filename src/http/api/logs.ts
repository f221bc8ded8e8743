import { PassThrough } from 'node:stream';
import { DomainError } from '../../core/errors.js';
import type { DeliveryLogStore, DeliveryRecord } from '../../incidents/ports.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { RouteHandlers } from '../routes.js';
import type { DeliveryFollower } from '../../workers/delivery-recorder.js';
import { deliveryJson } from '../../wire/delivery.js';
import { routeQuery } from './validation.js';

const HEARTBEAT_MS = 15_000;
/** Records already sent to a follower, remembered to skip them when the store poll returns them. */
const MAX_REMEMBERED = 5_000;
/** How soon a refused follower may try again. */
const RETRY_AFTER_SECONDS = 5;

export interface FollowLimits {
  perKey: number;
  total: number;
  idleSeconds: number;
  backlogBytes: number;
}

export interface LogsDeps {
  store: DeliveryLogStore;
  /** This replica's live feed and, through one shared poll, the other replicas' records (DeliveryRecorder.follow). */
  follow: (follower: DeliveryFollower) => () => void;
  limits: FollowLimits;
  metrics: Metrics;
}

/**
 * `GET /api/logs?filter=webhook&tail=N&source=S[&follow=true]`: the delivery log, oldest of the tail
 * first, like `tail`. With `follow=true` the answer is Server-Sent Events: the tail, then each new
 * record as this replica settles it (an in-process feed, no store polling per stream) and, every
 * few seconds, what other replicas wrote to the store.
 */
const parseQuery = routeQuery<{ filter: 'webhook'; source?: string; tail: number; follow: boolean }>('logs.list');

export function logsHandlers(deps: LogsDeps): Pick<RouteHandlers, 'logs.list'> {
  const slots = new StreamSlots(deps.limits);
  return {
    'logs.list': async (ctx) => {
      const { source, tail, follow } = parseQuery(ctx.querystring);
      if (!follow) {
        const records = (await deps.store.listDeliveries({ source, limit: tail })).reverse();
        return void (ctx.body = { items: records.map(deliveryJson) });
      }
      // A stream holds a connection, timers and a place in the feed for as long as its reader
      // stays: each key may hold a few and the process a bounded number.
      const slot = slots.take(ctx.state.principal!.keyId);
      if (!slot.ok) {
        deps.metrics.loadShed.inc({ reason: slot.reason });
        throw slot.error;
      }
      const { release } = slot;
      deps.metrics.followStreams.set(slots.open);
      let records: DeliveryRecord[];
      try {
        records = (await deps.store.listDeliveries({ source, limit: tail })).reverse();
      } catch (error) {
        release();
        deps.metrics.followStreams.set(slots.open);
        throw error;
      }

      const socket = ctx.req.socket;
      socket.setTimeout(0);
      socket.setNoDelay(true);
      ctx.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
      ctx.status = 200;
      const stream = new PassThrough();
      ctx.body = stream;
      // What is written but not yet taken by the reader: past the bound, the reader is not reading.
      const backlog = () => stream.writableLength + stream.readableLength + ctx.res.writableLength;
      const write = (text: string) => {
        stream.write(text);
        if (backlog() > deps.limits.backlogBytes) drop('follow_slow_reader');
      };
      const sent = new Set<string>();
      const send = (record: DeliveryRecord) => {
        const key = recordKey(record);
        if (sent.has(key) || (source !== undefined && record.source !== source)) return;
        if (sent.size >= MAX_REMEMBERED) sent.clear();
        sent.add(key);
        write(`event: delivery\ndata: ${JSON.stringify(deliveryJson(record))}\n\n`);
        idle.refresh();
      };
      const idle = setTimeout(() => {
        deps.metrics.loadShed.inc({ reason: 'follow_idle' });
        stream.end(`event: end\ndata: ${JSON.stringify({ reason: 'idle', idle_seconds: deps.limits.idleSeconds })}\n\n`);
      }, deps.limits.idleSeconds * 1000);
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
      let unfollow = () => {};
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unfollow();
        clearTimeout(idle);
        clearInterval(heartbeat);
        release();
        deps.metrics.followStreams.set(slots.open);
      };
      const drop = (reason: string) => {
        if (closed) return;
        deps.metrics.loadShed.inc({ reason });
        close();
        socket.destroy();
      };
      ctx.req.once('close', () => {
        close();
        stream.end();
      });
      // The head goes out now, not with the first record (which may be a long while away).
      write(': following\n\n');
      records.forEach(send);
      if (!closed) unfollow = deps.follow({ record: send, end: () => stream.end() });
    },
  };
}

/** Open follow streams, per key and in all, against their caps. */
class StreamSlots {
  private readonly byKey = new Map<string, number>();
  open = 0;

  constructor(private readonly limits: FollowLimits) {}

  /** A slot for one more stream of `keyId` (its release is idempotent), or why not: 429 past the key's share, 503 past the process's. */
  take(keyId: string): { ok: true; release: () => void } | { ok: false; reason: string; error: DomainError } {
    const held = this.byKey.get(keyId) ?? 0;
    if (held >= this.limits.perKey) {
      const message = `This API key already holds ${this.limits.perKey} log streams (the most it may); close one first`;
      return { ok: false, reason: 'follow_per_key', error: new DomainError('rate_limited', message, { retryAfterSeconds: RETRY_AFTER_SECONDS }) };
    }
    if (this.open >= this.limits.total) {
      const message = `This replica already serves ${this.limits.total} log streams (the most it may); retry later`;
      return { ok: false, reason: 'follow_total', error: new DomainError('unavailable', message, { retryAfterSeconds: RETRY_AFTER_SECONDS }) };
    }
    this.byKey.set(keyId, held + 1);
    this.open++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.open--;
      const left = this.byKey.get(keyId)! - 1;
      if (left === 0) this.byKey.delete(keyId);
      else this.byKey.set(keyId, left);
    };
    return { ok: true, release };
  }
}

/** Delivery records carry no id; these fields together tell two apart in practice. */
function recordKey(record: DeliveryRecord): string {
  return `${record.at}|${record.source}|${record.status}|${record.latencyMs}|${record.remoteAddress}|${record.incidentId}|${record.queueId}`;
}
