import { createHmac } from 'node:crypto';
import type { VerificationProfile } from '../sources/source.js';
import { signingKey } from './standard-webhooks.js';

/** The contract's signature: hex HMAC-SHA256 of `<timestamp>.<raw body>`. */
export function hmacSha256Hex(secret: Buffer | string, timestamp: number | string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * The headers a sender of the given profile would send, signed with `secret`: what the test
 * endpoint (and `tw-cli webhook sign`) use to exercise the real verification path.
 */
export function signedHeaders(profile: VerificationProfile, secret: Buffer, body: Buffer, nowSeconds: number, id: string): Record<string, string> {
  switch (profile) {
    case 'hmac-sha256':
      return { 'x-webhook-timestamp': String(nowSeconds), 'x-webhook-signature': `sha256=${hmacSha256Hex(secret, nowSeconds, body)}` };
    case 'standard-webhooks': {
      const signature = createHmac('sha256', signingKey(secret)).update(`${id}.${nowSeconds}.`).update(body).digest('base64');
      return { 'webhook-id': id, 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${signature}` };
    }
    case 'hmac-body':
      return { 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
    case 'token':
      return { 'x-webhook-token': secret.toString('utf8') };
  }
}
