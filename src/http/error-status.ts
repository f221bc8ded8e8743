import type { DomainError, ErrorCode } from '../core/errors.js';

/** The one table from the contract's error codes to HTTP statuses (docs/api.md). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  invalid_payload: 400,
  unauthorized: 401,
  invalid_timestamp: 401,
  timestamp_expired: 401,
  invalid_signature: 401,
  forbidden: 403,
  unknown_source: 404,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  unavailable: 503,
};

/** Headers an error's answer carries besides the envelope. */
export function errorHeaders(error: DomainError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.details.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.details.retryAfterSeconds);
  if (error.code === 'unauthorized') headers['WWW-Authenticate'] = 'Bearer';
  return headers;
}
