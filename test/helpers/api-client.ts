/** The HTTP client tests drive a running service with: signed deliveries, Bearer reads, probes, metrics. */
import assert from 'node:assert/strict';
import { signedHeaders } from './sign.js';

import { setTimeout as sleep } from 'node:timers/promises';
export { waitFor } from './wait.js';

export const TEST_TOKEN = 'tw_test_token_0123456789';
const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

export interface Reply {
  status: number;
  headers: Headers;
  /** The JSON body, or undefined when there was none; a non-JSON body is kept as its text. */
  body: any;
}

export function genericAlert(alertId: string, severity = 'high'): string {
  return JSON.stringify({ event_type: 'security_alert', timestamp: '2026-01-15T10:00:00Z', source: 'edr', data: { alert_id: alertId, severity } });
}

/** Any request; the whole body is read, so the connection is free again when this resolves. */
export async function request(baseUrl: string, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, body };
}

/** POSTs `body` with exactly the given headers (signed or not: the caller decides). */
export function post(baseUrl: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return request(baseUrl, path, { method: 'POST', body, headers });
}

/** POSTs a correctly signed delivery (default profile); a dead connection rejects. */
export function deliver(baseUrl: string, source: string, secret: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return post(baseUrl, `/api/webhooks/${source}`, body, { ...signedHeaders(secret, body), ...headers });
}

/** A GET with the test's API token. */
export function getJson(baseUrl: string, path: string): Promise<Reply> {
  return request(baseUrl, path, { headers: AUTH });
}

/** A GET without credentials (probes, or checking that the read API refuses it). */
export function getAnonymous(baseUrl: string, path: string): Promise<Reply> {
  return request(baseUrl, path);
}

/** The Prometheus text of GET /metrics. */
export async function metricsText(baseUrl: string): Promise<string> {
  const reply = await request(baseUrl, '/metrics');
  assert.equal(reply.status, 200);
  return String(reply.body);
}

/** The value of one sample in Prometheus text, e.g. `sample(text, 'webhook_received_total', { source: 'edr' })`; undefined if absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

/** Asserts the JSON error envelope with its status and code (and message, when given). */
export function assertError(reply: Reply, status: number, code: string, message?: string | RegExp): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(reply.body?.error?.code, code, JSON.stringify(reply.body));
  assert.equal(typeof reply.body.error.message, 'string');
  if (typeof message === 'string') assert.equal(reply.body.error.message, message);
  else if (message) assert.match(reply.body.error.message, message);
}

/** Every incident through the read API's pagination. */
export async function allIncidents(baseUrl: string, query = ''): Promise<any[]> {
  const items = [];
  let cursor = '';
  do {
    const page = await getJson(baseUrl, `/api/incidents?limit=500${query ? `&${query}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    items.push(...page.body.items);
    cursor = page.body.next ?? '';
  } while (cursor);
  return items;
}

/**
 * What a well-behaved sender does: deliver, and on `503 unavailable` (an overloaded or briefly
 * unreachable store) wait a moment and send the same delivery again, up to `attempts` times.
 */
export async function deliverRetrying(baseUrl: string, source: string, secret: string, body: string | Buffer, attempts = 20): Promise<Reply> {
  for (let attempt = 1; ; attempt++) {
    const reply = await deliver(baseUrl, source, secret, body);
    if (reply.status !== 503 || attempt >= attempts) return reply;
    // Retry-After says seconds; a test sender shortens it, keeping the order of magnitude small.
    await sleep(100 * attempt);
  }
}
