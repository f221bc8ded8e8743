import { createHmac } from 'node:crypto';
import { anyDigestMatches } from './constant-time.js';
import { parseSignatureHeader, signatureHeaderProblem } from './signature-header.js';
import { noSecretMatched, signatureFailed, VERIFIED, type Verdict } from './verdict.js';

export interface HmacBodyInput {
  secrets: readonly Buffer[];
  /** `X-Hub-Signature-256`. */
  signatureHeader: string | undefined;
  rawBody: Buffer;
}

/**
 * GitHub-style `X-Hub-Signature-256: sha256=<hex>` of HMAC-SHA256(secret, body). The scheme signs
 * no timestamp, so a captured request can be replayed at any time: replay protection for these
 * sources rests on deduplication (a repeat answers 200 duplicate and creates nothing).
 */
export function verifyHmacBody(input: HmacBodyInput): Verdict {
  const { rawBody } = input;
  const digests = parseSignatureHeader(input.signatureHeader);
  const problem = signatureHeaderProblem(input.signatureHeader, 'X-Hub-Signature-256', 'sha256=<64 hex digits>', digests);
  if (problem) return signatureFailed(problem);
  const matches = anyDigestMatches(input.secrets, digests, (secret) => createHmac('sha256', secret).update(rawBody).digest());
  return matches ? VERIFIED : noSecretMatched('X-Hub-Signature-256', 'the raw body');
}
