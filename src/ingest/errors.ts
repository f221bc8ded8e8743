/** Error codes of the HTTP contract (DESIGN §2). Errors are values; one middleware renders them. */
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
  | 'not_found'
  | 'bad_request'
  | 'conflict'
  | 'request_timeout'
  | 'internal_error';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Result<T, E = ApiError> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
