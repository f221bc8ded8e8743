/** The work both reference servers do per request: verify the spec's HMAC and parse the JSON, nothing else. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export function signedJsonIsValid(secret: string, headers: IncomingHttpHeaders, body: Buffer): boolean {
  const timestamp = String(headers['x-webhook-timestamp']);
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  const given = Buffer.from(String(headers['x-webhook-signature']).slice('sha256='.length), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  JSON.parse(body.toString('utf8'));
  return true;
}

/** How the bench learns a reference server's port: the same `listening` line the service logs. */
export function announceListening(address: ReturnType<import('node:net').Server['address']>): void {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
}
