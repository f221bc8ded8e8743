import { createHmac } from 'node:crypto';
import { anyDigestMatches } from './constant-time.js';
import { parseDigests, signatureHeaderProblem } from './signature-header.js';
import { checkTimestamp } from './timestamp.js';
import { noSecretMatched, signatureFailed, VERIFIED, type Verdict } from './verdict.js';

/**
 * The scheme's header names: its own (`webhook-id`, …) and Svix's (`svix-id`, `svix-timestamp`,
 * `svix-signature`), which Svix's libraries and service send for the same scheme.
 */
export type HeaderSpelling = 'webhook' | 'svix';

export interface StandardWebhooksInput {
  secrets: readonly Buffer[];
  /** Which names the three headers below were read under; the timestamp's problems name its header. */
  spelling: HeaderSpelling;
  /** `<spelling>-id`, signed with the body so an id cannot be swapped onto another delivery. */
  id: string | undefined;
  /** `<spelling>-timestamp`. */
  timestamp: string | undefined;
  /** `<spelling>-signature`: space-separated `v1,<base64>` entries. */
  signatureHeader: string | undefined;
  rawBody: Buffer;
  nowSeconds: number;
  toleranceSeconds: number;
}

/** A symmetric (`v1`) entry whose base64 decodes to exactly 32 bytes. `v1a` (ed25519) is not supported. */
const V1_SIGNATURE = /^v1,([A-Za-z0-9+/]{43}=)$/;
/** Entries are separated by single spaces; any whitespace is tolerated. */
const ENTRY_SEPARATOR = /\s+/;
const SECRET_PREFIX = 'whsec_';

/** The signed content and its MAC: HMAC-SHA256(key, `<id>.<timestamp>.<body>`). Verifying and signing both use it. */
function standardWebhooksMac(secret: Buffer, id: string, timestamp: number | string, body: Buffer): Buffer {
  return createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The headers of a delivery signed by this profile. */
export function signStandardWebhooks(secret: Buffer, body: Buffer, nowSeconds: number, id: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(nowSeconds),
    'webhook-signature': `v1,${standardWebhooksMac(secret, id, nowSeconds, body).toString('base64')}`,
  };
}

/**
 * Standard Webhooks (standardwebhooks.com): base64 HMAC-SHA256 over `<id>.<timestamp>.<body>`,
 * the same timestamp tolerance as the default profile.
 */
export function verifyStandardWebhooks(input: StandardWebhooksInput): Verdict {
  const timestampProblem = checkTimestamp(input.timestamp, `${input.spelling}-timestamp`, input.nowSeconds, input.toleranceSeconds);
  if (timestampProblem) return timestampProblem;
  const { id, timestamp, rawBody, spelling } = input;
  if (!id) return signatureFailed(`the ${spelling}-id header is missing (it is signed with the body)`);
  const digests = parseDigests(input.signatureHeader, ENTRY_SEPARATOR, V1_SIGNATURE, 'base64');
  const problem = signatureHeaderProblem(input.signatureHeader, `${spelling}-signature`, 'v1,<base64 of 32 bytes>', digests);
  if (problem) return signatureFailed(problem.replace('needs the sha256= prefix', 'holds a hex digest; it takes'));
  const matches = anyDigestMatches(input.secrets, digests, (secret) => standardWebhooksMac(secret, id, timestamp!, rawBody));
  return matches
    ? VERIFIED
    : noSecretMatched(
        `${spelling}-signature`,
        `'<${spelling}-id>.<${spelling}-timestamp>.<raw body>'`,
        'in base64; a whsec_ secret is the base64 key after the prefix',
      );
}

/**
 * A delivery is read under one spelling, never a mix: Svix's when it sent only Svix's names, else
 * the scheme's own (so a delivery with none is told about `webhook-timestamp`). `has` tells whether
 * a (lower-case) header was sent.
 */
export function headerSpelling(has: (name: string) => boolean): HeaderSpelling {
  const sent = (spelling: HeaderSpelling) => has(`${spelling}-id`) || has(`${spelling}-timestamp`) || has(`${spelling}-signature`);
  return !sent('webhook') && sent('svix') ? 'svix' : 'webhook';
}

/** Decoded keys per configured secret, so the hot path does not base64-decode on every request. */
const signingKeys = new WeakMap<Buffer, Buffer>();

/** The spec serializes secrets as `whsec_<base64>`; the key is the decoded bytes. Other secrets are used as is. */
export function signingKey(secret: Buffer): Buffer {
  let key = signingKeys.get(secret);
  if (key === undefined) {
    const text = secret.toString('utf8');
    key = text.startsWith(SECRET_PREFIX) ? Buffer.from(text.slice(SECRET_PREFIX.length), 'base64') : secret;
    signingKeys.set(secret, key);
  }
  return key;
}
