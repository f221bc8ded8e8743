import { createHash } from 'node:crypto';

/**
 * Headers a sender sets to make a retry recognizable, in order of preference. `webhook-id` is the
 * Standard Webhooks message id; `idempotency-key` is the IETF draft's name.
 */
export const IDEMPOTENCY_HEADERS = ['webhook-id', 'x-webhook-id', 'idempotency-key'] as const;

const MAX_KEY_PART = 256;

export interface DedupeInput {
  /** Request headers, lower-cased names (node's IncomingHttpHeaders). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The vendor's alert id from normalization, if any. */
  externalId: string | null;
  format: string;
  rawBody: Buffer;
}

/**
 * The key that makes a redelivery the same event: the sender's idempotency header, else the
 * vendor's alert id (per format, since ids of different vendors may collide), else the body hash.
 */
export function dedupeKey(input: DedupeInput): string {
  for (const name of IDEMPOTENCY_HEADERS) {
    const value = input.headers[name];
    if (typeof value === 'string' && value.length > 0) return `hdr:${value.slice(0, MAX_KEY_PART)}`;
  }
  if (input.externalId) return `ext:${input.format}:${input.externalId.slice(0, MAX_KEY_PART)}`;
  return `sha256:${createHash('sha256').update(input.rawBody).digest('hex')}`;
}
