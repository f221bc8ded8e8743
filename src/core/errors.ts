/**
 * The contract's error codes (docs/api.md). The domain speaks in codes only; the HTTP layer owns
 * the one table from code to status (see docs/api.md, error codes).
 */
export type ErrorCode =
  | 'unknown_source'
  | 'payload_too_large'
  | 'invalid_timestamp'
  | 'timestamp_expired'
  | 'invalid_signature'
  | 'rate_limited'
  | 'invalid_payload'
  | 'unavailable'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'bad_request'
  | 'conflict'
  | 'request_timeout'
  | 'headers_too_large'
  | 'internal_error';

export interface ErrorDetails {
  /** When a retry may succeed (rate limits, outages): becomes `Retry-After` over HTTP. */
  retryAfterSeconds?: number;
}

/** An expected failure with a contract code. Returned in a Result, or thrown where a layer must unwind. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const domainError = (code: ErrorCode, message: string, details?: ErrorDetails): DomainError => new DomainError(code, message, details);

/** Seconds a sender should wait before retrying while the store is down. */
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Thrown by a store when the database cannot take the write now (down, restarting, not open):
 * rendered as 503 unavailable, senders should retry shortly.
 */
export class StoreUnavailableError extends DomainError {
  /** What went wrong, for the log; senders only learn that the store is unavailable. */
  constructor(
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super('unavailable', 'Incident store is unavailable, retry later', { retryAfterSeconds: STORE_RETRY_AFTER_SECONDS });
    this.name = 'StoreUnavailableError';
  }
}

/** The damage a database file's check found, and what to do about it (one sentence). */
export interface FileDamage {
  file: string;
  /** The first lines the check reported. */
  problems: string[];
  recovery: string;
}

/** A database file failed its start-up check: the store does not serve from it. */
export class StoreDamagedError extends Error {
  constructor(readonly damage: FileDamage) {
    super(`${damage.file} is damaged (${damage.problems.join('; ')}); ${damage.recovery}`);
    this.name = 'StoreDamagedError';
  }
}
