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

/** The spec's profile: hex HMAC-SHA256(secret, `<timestamp>.<raw body bytes>`), timestamp within tolerance. */
export function verifyHmacSha256(input: HmacSha256Input): Verdict {
  const timestampProblem = checkTimestamp(input.timestamp, 'X-Webhook-Timestamp', input.nowSeconds, input.toleranceSeconds);
  if (timestampProblem) return timestampProblem;
  const { timestamp, rawBody } = input;
  const digests = parseSignatureHeader(input.signatureHeader);
  const problem = signatureHeaderProblem(input.signatureHeader, 'X-Webhook-Signature', 'sha256=<64 hex digits>', digests);
  if (problem) return signatureFailed(problem);
  const matches = anyDigestMatches(input.secrets, digests, (secret) => createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest());
  return matches ? VERIFIED : noSecretMatched('X-Webhook-Signature', "'<X-Webhook-Timestamp>.<raw body>'");
}
