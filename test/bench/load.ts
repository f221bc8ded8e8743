/**
 * The bench's two loads. Closed loop (autocannon, a fixed number of connections each sending its
 * next request when the previous one is answered) finds the most a target sustains. Open loop (a
 * fixed rate, whatever the answers do) measures latency as a sender sees it: each request's latency
 * runs from the time it was scheduled to be sent, so a target that stalls is charged for the
 * requests that queued behind the stall (no coordinated omission).
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { signedHeaders } from '../helpers/sign.js';

interface OutgoingRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A fresh request each call (unique, signed now). */
export type RequestFactory = () => OutgoingRequest;

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
}

function alert(description: string): string {
  return JSON.stringify({
    event_type: 'security_alert',
    timestamp: new Date().toISOString(),
    source: 'edr',
    data: { alert_id: randomUUID(), severity: 'high', details: { host: 'ws-17', user: 'jdoe', ip: '10.1.2.3', description } },
  });
}

const paddings = new Map<number, string>();

/** A generic alert of `bytes` bytes (a description pads it), unique by its alert id. */
function alertBody(bytes: number): string {
  let padding = paddings.get(bytes);
  if (padding === undefined) paddings.set(bytes, (padding = 'x'.repeat(Math.max(0, bytes - alert('').length))));
  return alert(padding);
}

/** Signed generic alerts of `bytes` to `/api/webhooks/<source>`, the source picked per request. */
export function signedAlerts(bytes: number, pick: () => { source: string; secret: string }): RequestFactory {
  return () => {
    const { source, secret } = pick();
    const body = alertBody(bytes);
    return { path: `/api/webhooks/${source}`, headers: signedHeaders(secret, body), body };
  };
}

/**
 * `connections` connections in all, spread over the given ports (replicas of one service) with an
 * autocannon each; latencies are autocannon's (from each send), the p99 the worst instance's.
 */
export async function closedLoop(ports: readonly number[], connections: number, seconds: number, next: RequestFactory): Promise<LoadResult> {
  const results = await Promise.all(
    ports.map((port, index) =>
      autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: Math.max(1, Math.floor(connections / ports.length) + (index < connections % ports.length ? 1 : 0)),
        duration: seconds,
        requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...next() }) }],
      }),
    ),
  );
  const requests = results.reduce((sum, result) => sum + result.requests.total, 0);
  const non2xx = results.reduce((sum, result) => sum + result.non2xx, 0);
  return {
    requests,
    seconds,
    requestsPerSecond: results.reduce((sum, result) => sum + result.requests.average, 0),
    p50: Math.max(...results.map((result) => result.latency.p50)),
    p99: Math.max(...results.map((result) => result.latency.p99)),
    ok: requests - non2xx,
    non2xx,
    errors: results.reduce((sum, result) => sum + result.errors, 0),
  };
}

export interface OpenLoopResult extends LoadResult {
  /** Latencies from the scheduled send time, ms. */
  p90: number;
  p999: number;
  max: number;
  rate: number;
}

/**
 * `rate` requests a second for `seconds`, each sent at its scheduled time on a keep-alive
 * connection (up to `maxSockets`; beyond that it waits in the agent's queue, and the wait counts).
 */
export async function openLoop(port: number, rate: number, seconds: number, next: RequestFactory, maxSockets = 256): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let okCount = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let answered = 0;
  const startedAt = performance.now() + 10;
  const interval = 1000 / rate;
  let allAnswered: () => void = () => undefined;
  const answeredAll = new Promise<void>((done) => (allAnswered = done));

  const send = (index: number, scheduledAt: number) => {
    const { path, headers, body } = next();
    const settle = (status: number | undefined) => {
      latencies[index] = performance.now() - scheduledAt;
      if (status === undefined) errors++;
      else if (status >= 200 && status < 300) okCount++;
      else non2xx++;
      if (++answered === total) allAnswered();
    };
    const outgoing = request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent },
      (res) => {
        res.resume();
        res.once('end', () => settle(res.statusCode));
        res.once('error', () => settle(undefined));
      },
    );
    outgoing.once('error', () => settle(undefined));
    outgoing.end(body);
  };
  const tick = () => {
    const now = performance.now();
    while (sent < total && startedAt + sent * interval <= now) {
      send(sent, startedAt + sent * interval);
      sent++;
    }
    if (sent < total) setTimeout(tick, Math.max(0, startedAt + sent * interval - performance.now()));
  };
  setTimeout(tick, 10);
  await answeredAll;
  const elapsed = (performance.now() - startedAt) / 1000;
  agent.destroy();
  const sorted = latencies.sort();
  const at = (quantile: number) => Math.round(sorted[Math.min(total - 1, Math.floor(quantile * total))]! * 100) / 100;
  return {
    requests: total,
    seconds: elapsed,
    requestsPerSecond: okCount / elapsed,
    rate,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
    ok: okCount,
    non2xx,
    errors,
  };
}
