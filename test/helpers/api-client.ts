/** Small HTTP helpers for driving a running service: signed deliveries, Bearer reads, polling. */
import { signedHeaders } from './sign.js';

export const TEST_TOKEN = 'tw_test_token';
const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export function genericAlert(alertId: string, severity = 'high'): string {
  return JSON.stringify({ event_type: 'security_alert', timestamp: '2026-01-15T10:00:00Z', source: 'edr', data: { alert_id: alertId, severity } });
}

/** POSTs a correctly signed delivery (default profile); a dead connection rejects. */
export async function deliver(baseUrl: string, source: string, secret: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(`${baseUrl}/api/webhooks/${source}`, { method: 'POST', body, headers: { ...signedHeaders(secret, body), ...headers } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function getJson(baseUrl: string, path: string): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, { headers: AUTH });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Every incident through the read API's pagination. */
export async function allIncidents(baseUrl: string): Promise<{ incident_id: string; incident_number: string; triage: any }[]> {
  const items = [];
  let cursor = '';
  do {
    const page = await getJson(baseUrl, `/api/incidents?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...page.body.items);
    cursor = page.body.next ?? '';
  } while (cursor);
  return items;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
