import type { Source, VerificationProfile } from '../sources/source.js';
import { verifyHmacBody } from './hmac-body.js';
import { HMAC_SHA256_HEADERS, verifyHmacSha256 } from './hmac-sha256.js';
import { headerSpelling, verifyStandardWebhooks } from './standard-webhooks.js';
import { presentedTokens, verifyToken } from './token.js';
import type { Verdict } from './verdict.js';

export type { Verdict } from './verdict.js';

const TIMESTAMP_HEADER = HMAC_SHA256_HEADERS.timestamp.toLowerCase();
const SIGNATURE_HEADER = HMAC_SHA256_HEADERS.signature.toLowerCase();

export interface VerifiableRequest {
  /** Lower-cased names, like node's IncomingHttpHeaders. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  query: URLSearchParams;
  rawBody: Buffer;
}

/**
 * Verifies a request against its source's profile. Pure: the caller passes the clock in, so the
 * route and the tests decide what "now" is.
 */
export function verifyRequest(source: Source, request: VerifiableRequest, nowSeconds: number): Verdict {
  const header = (name: string) => headerValue(request.headers, name);
  const { secrets, toleranceSeconds } = source;
  const { rawBody } = request;
  switch (source.verification) {
    case 'hmac-sha256':
      return verifyHmacSha256({
        secrets,
        timestamp: header(TIMESTAMP_HEADER),
        signatureHeader: header(SIGNATURE_HEADER),
        rawBody,
        nowSeconds,
        toleranceSeconds,
      });
    case 'standard-webhooks': {
      const spelling = headerSpelling((name) => request.headers[name] !== undefined);
      return verifyStandardWebhooks({
        secrets,
        spelling,
        id: header(`${spelling}-id`),
        timestamp: header(`${spelling}-timestamp`),
        signatureHeader: header(`${spelling}-signature`),
        rawBody,
        nowSeconds,
        toleranceSeconds,
      });
    }
    case 'hmac-body':
      return verifyHmacBody({ secrets, signatureHeader: header('x-hub-signature-256'), rawBody });
    case 'token':
      return verifyToken({ secrets, presented: presentedTokens(header, request.query) });
  }
}

/**
 * The header holding an event id the profile's signature covers: only Standard Webhooks signs one
 * (`webhook-id`, or `svix-id` in a delivery read under Svix's names, in `<id>.<timestamp>.<body>`).
 * The other profiles sign no id, so an id header their senders add is not read for the event's identity.
 */
export function signedIdHeader(profile: VerificationProfile, headers: VerifiableRequest['headers']): string | undefined {
  if (profile !== 'standard-webhooks') return undefined;
  return `${headerSpelling((name) => headers[name] !== undefined)}-id`;
}

/** The signed event id of a verified request, if its profile signs one. */
export function signedEventId(profile: VerificationProfile, headers: VerifiableRequest['headers']): string | undefined {
  const name = signedIdHeader(profile, headers);
  return name === undefined ? undefined : headerValue(headers, name);
}

/** Repeated headers arrive as arrays only for a few names; join them the way node joins the rest. */
function headerValue(headers: VerifiableRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
