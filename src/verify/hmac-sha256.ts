import { createHmac } from 'node:crypto';
import { anyDigestMatches } from './constant-time.js';
import { parseSignatureHeader, signatureHeaderProblem } from './signature-header.js';
import { checkTimestamp } from './timestamp.js';
import { noSecretMatched, signatureFailed, VERIFIED, type Verdict } from './verdict.js';

export interface HmacSha256Input {
  secrets: readonly Buffer[];
  /** `X-Webhook-Timestamp`. */
  timestamp: string | undefined;
  /** `X-Webhook-Signature`. */
  signatureHeader: string | undefined;
  rawBody: Buffer;
  nowSeconds: number;
  toleranceSeconds: number;
}

/** The profile's two headers, as a sender writes them (lower-cased by node on the way in). */
export const HMAC_SHA256_HEADERS = { timestamp: 'X-Webhook-Timestamp', signature: 'X-Webhook-Signature' } as const;

/** The signed content and its MAC: HMAC-SHA256(secret, `<timestamp>.<raw body bytes>`). Verifying and signing both use it. */
function hmacSha256Mac(secret: Buffer | string, timestamp: number | string, body: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** The headers of a delivery signed by this profile: the test endpoint, `tw-cli webhook sign` and the triage client send them. */
export function signHmacSha256(secret: Buffer | string, body: Buffer | string, nowSeconds: number): Record<string, string> {
  return {
    [HMAC_SHA256_HEADERS.timestamp]: String(nowSeconds),
    [HMAC_SHA256_HEADERS.signature]: `sha256=${hmacSha256Mac(secret, nowSeconds, body).toString('hex')}`,
  };
}

/** The spec's profile: hex HMAC-SHA256(secret, `<timestamp>.<raw body bytes>`), timestamp within tolerance. */
export function verifyHmacSha256(input: HmacSha256Input): Verdict {
  const timestampProblem = checkTimestamp(input.timestamp, 'X-Webhook-Timestamp', input.nowSeconds, input.toleranceSeconds);
  if (timestampProblem) return timestampProblem;
  const { timestamp, rawBody } = input;
  const digests = parseSignatureHeader(input.signatureHeader);
  const problem = signatureHeaderProblem(input.signatureHeader, 'X-Webhook-Signature', 'sha256=<64 hex digits>', digests);
  if (problem) return signatureFailed(problem);
  const matches = anyDigestMatches(input.secrets, digests, (secret) => hmacSha256Mac(secret, timestamp!, rawBody));
  return matches ? VERIFIED : noSecretMatched('X-Webhook-Signature', "'<X-Webhook-Timestamp>.<raw body>'");
}
