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

/** Standard Webhooks headers: `webhook-id`, `-timestamp`, `-signature: v1,<base64 HMAC of "<id>.<ts>.<body>">`; the secret is `whsec_<base64 key>`. */
export function standardWebhooksHeaders(secret: string, id: string, body: string | Buffer, timestamp = nowSeconds()): Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

/** GitHub's scheme (`hmac-body`): `X-Hub-Signature-256: sha256=<hex HMAC of the body>`. */
export function hubSignatureHeaders(secret: string, body: string | Buffer): Record<string, string> {
  return { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}
