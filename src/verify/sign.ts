import type { VerificationProfile } from '../sources/source.js';
import { signHmacBody } from './hmac-body.js';
import { signHmacSha256 } from './hmac-sha256.js';
import { signStandardWebhooks } from './standard-webhooks.js';
import { signToken } from './token.js';

/**
 * The headers a sender of the given profile would send, signed with `secret` by the profile's own
 * signer (the one its verifier checks against): what the test endpoint uses to exercise the real
 * verification path.
 */
export function signedHeaders(profile: VerificationProfile, secret: Buffer, body: Buffer, nowSeconds: number, id: string): Record<string, string> {
  switch (profile) {
    case 'hmac-sha256':
      return signHmacSha256(secret, body, nowSeconds);
    case 'standard-webhooks':
      return signStandardWebhooks(secret, body, nowSeconds, id);
    case 'hmac-body':
      return signHmacBody(secret, body);
    case 'token':
      return signToken(secret);
  }
}
