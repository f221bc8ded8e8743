import type { VerificationProfile } from '../sources/source.js';
import { signingKey } from './standard-webhooks.js';

/**
 * The shortest shared secret the registration API takes (128 bits, what an HMAC key needs to
 * resist guessing offline from one captured request); declared ones below it are warned about.
 */
export const MIN_SECRET_BYTES = 16;

/** Whether a secret gives its profile fewer key bytes than the minimum: a `whsec_` secret's key is its decoded base64. */
export function isWeakSecret(profile: VerificationProfile, secret: Buffer): boolean {
  const key = profile === 'standard-webhooks' ? signingKey(secret) : secret;
  return key.length < MIN_SECRET_BYTES;
}
