import { createHash } from 'node:crypto';
import { domainError, type DomainError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';

/** A longer signed event id is refused (400 bad_request): no sender needs more, and it is never cut. */
const MAX_EVENT_ID_LENGTH = 1024;

/** Keys up to this length are stored as they are; longer ones as the SHA-256 of the whole key. */
const MAX_PLAIN_KEY_LENGTH = 128;

export interface DedupeInput {
  /**
   * The sender's event id when the signature covers it (Standard Webhooks' `webhook-id`), else
   * undefined: an id in a header the signature does not cover is never read, since anyone holding
   * one captured request could otherwise mint new events from it (see docs/api.md, event identity).
   */
  signedId: string | undefined;
  /** The vendor's alert id from normalization, if any (bounded by the draft schema). */
  externalId: string | null;
  format: string;
  rawBody: Buffer;
}

/** The signed event id, or a 400 when it is too long to be one. */
export function checkedEventId(id: string | undefined): Result<string | undefined, DomainError> {
  if (id === undefined || id.length === 0) return ok(undefined);
  if (id.length > MAX_EVENT_ID_LENGTH) return err(domainError('bad_request', `The signed event id is longer than ${MAX_EVENT_ID_LENGTH} characters`));
  return ok(id);
}

/**
 * The key that makes a redelivery the same event: the signed event id, else the vendor's alert id
 * (per format, since ids of different vendors may collide), else the body hash. Everything here is
 * covered by the signature, so a replay can only ever be a duplicate. Keys are compared whole: a
 * long one is stored as its hash under a prefix of its own, so it can neither be cut into another
 * key's prefix nor collide with a short key spelled like a hash.
 */
export function dedupeKey(input: DedupeInput): Result<string, DomainError> {
  const id = checkedEventId(input.signedId);
  if (!id.ok) return id;
  if (id.value !== undefined) return ok(namespaced('hdr', id.value));
  if (input.externalId) return ok(namespaced(`ext:${input.format}`, input.externalId));
  return ok(`sha256:${sha256(input.rawBody)}`);
}

function namespaced(kind: string, key: string): string {
  return key.length <= MAX_PLAIN_KEY_LENGTH ? `${kind}:${key}` : `${kind}#sha256:${sha256(key)}`;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
