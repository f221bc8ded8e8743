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

/** The MAC of the body alone: HMAC-SHA256(secret, body). Verifying and signing both use it. */
function hmacBodyMac(secret: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** The header of a delivery signed by this profile. */
export function signHmacBody(secret: Buffer, body: Buffer): Record<string, string> {
  return { 'x-hub-signature-256': `sha256=${hmacBodyMac(secret, body).toString('hex')}` };
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
  const matches = anyDigestMatches(input.secrets, digests, (secret) => hmacBodyMac(secret, rawBody));
  return matches ? VERIFIED : noSecretMatched('X-Hub-Signature-256', 'the raw body');
}
