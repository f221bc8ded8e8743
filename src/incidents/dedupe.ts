import { createHash } from 'node:crypto';
import { domainError, type DomainError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';

/**
 * Headers a sender sets to make a retry recognizable, in order of preference. `webhook-id` is the
 * Standard Webhooks message id (`svix-id` under Svix's names); `idempotency-key` is the IETF draft's name.
 */
export const IDEMPOTENCY_HEADERS = ['webhook-id', 'svix-id', 'x-webhook-id', 'idempotency-key'] as const;

/** A longer idempotency key is refused (400 bad_request): no sender needs more, and it is never cut. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 1024;

/** Keys up to this length are stored as they are; longer ones as the SHA-256 of the whole key. */
const MAX_PLAIN_KEY_LENGTH = 128;

export interface DedupeInput {
  /** Request headers, lower-cased names (node's IncomingHttpHeaders). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The vendor's alert id from normalization, if any (bounded by the draft schema). */
  externalId: string | null;
  format: string;
  rawBody: Buffer;
}

/** The sender's idempotency key (first header that has one), or a 400 when it is too long to be one. */
export function idempotencyKey(headers: DedupeInput['headers']): Result<string | undefined, DomainError> {
  for (const name of IDEMPOTENCY_HEADERS) {
    const value = headers[name];
    if (typeof value !== 'string' || value.length === 0) continue;
    if (value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      return err(domainError('bad_request', `The ${name} header is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`));
    }
    return ok(value);
  }
  return ok(undefined);
}

/**
 * The key that makes a redelivery the same event: the sender's idempotency header, else the
 * vendor's alert id (per format, since ids of different vendors may collide), else the body hash.
 * Keys are compared whole: a long one is stored as its hash under a prefix of its own, so it can
 * neither be cut into another key's prefix nor collide with a short key spelled like a hash.
 */
export function dedupeKey(input: DedupeInput): Result<string, DomainError> {
  const header = idempotencyKey(input.headers);
  if (!header.ok) return header;
  if (header.value !== undefined) return ok(namespaced('hdr', header.value));
  if (input.externalId) return ok(namespaced(`ext:${input.format}`, input.externalId));
  return ok(`sha256:${sha256(input.rawBody)}`);
}

function namespaced(kind: string, key: string): string {
  return key.length <= MAX_PLAIN_KEY_LENGTH ? `${kind}:${key}` : `${kind}#sha256:${sha256(key)}`;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
