import { tokensEqual } from './constant-time.js';
import { signatureFailed, VERIFIED, type Verdict } from './verdict.js';

export interface TokenInput {
  secrets: readonly Buffer[];
  /** Every token the request presents, in any of the accepted places (see `presentedTokens`). */
  presented: readonly string[];
}

/**
 * A shared token instead of a signature, for senders that cannot sign: nothing binds the token
 * to the body or a time, so only use it over TLS; replays are absorbed by deduplication.
 */
export function verifyToken(input: TokenInput): Verdict {
  if (input.presented.length === 0) return signatureFailed('no token: send it as Authorization: Bearer <token>, X-Webhook-Token, Webhook-AuthID or ?token=');
  for (const secret of input.secrets) {
    for (const token of input.presented) if (tokensEqual(secret, token)) return VERIFIED;
  }
  return signatureFailed("the token matches none of the source's secrets");
}

/** The header a sender of this profile sends (one of the places presentedTokens reads). */
export function signToken(secret: Buffer): Record<string, string> {
  return { 'x-webhook-token': secret.toString('utf8') };
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Where senders put a shared token: `Authorization: Bearer <t>`, `X-Webhook-Token`, the Office 365
 * Management Activity API's `Webhook-AuthID`, or `?token=`, because Splunk's alert action cannot
 * set headers.
 */
export function presentedTokens(header: (name: string) => string | undefined, query: URLSearchParams): string[] {
  const tokens: string[] = [];
  const bearer = BEARER.exec(header('authorization')?.trim() ?? '')?.[1];
  if (bearer) tokens.push(bearer);
  for (const value of [header('x-webhook-token'), header('webhook-authid'), query.get('token')]) {
    if (value) tokens.push(value);
  }
  return tokens;
}
