import { createHmac } from 'node:crypto';

/** The contract's default scheme: hex HMAC-SHA256 over `<timestamp>.<raw body>`. */
export function hmacSignature(secret: string, timestamp: number | string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Headers of a correctly signed delivery (default profile). */
export function signedHeaders(secret: string, body: string | Buffer, timestamp = nowSeconds()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-webhook-timestamp': String(timestamp),
    'x-webhook-signature': `sha256=${hmacSignature(secret, timestamp, body)}`,
  };
}
