import { createHash, timingSafeEqual } from 'node:crypto';

/** Digest comparison without early exit; a length mismatch is only possible for malformed input. */
function digestsEqual(expected: Buffer, presented: Buffer): boolean {
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/**
 * Shared-token comparison. Both sides are hashed first so the comparison runs on equal lengths and
 * neither the token's length nor its prefix leaks through timing.
 */
export function tokensEqual(expected: Buffer, presented: string): boolean {
  return timingSafeEqual(sha256(expected), sha256(presented));
}

function sha256(value: Buffer | string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * True when the digest of any secret (current, previous) equals any presented digest. Each HMAC is
 * computed once per secret, however many signatures the sender presented.
 */
export function anyDigestMatches(secrets: readonly Buffer[], presented: readonly Buffer[], digest: (secret: Buffer) => Buffer): boolean {
  if (presented.length === 0) return false;
  for (const secret of secrets) {
    const expected = digest(secret);
    for (const candidate of presented) if (digestsEqual(expected, candidate)) return true;
  }
  return false;
}
