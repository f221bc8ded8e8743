import { isIP } from 'node:net';
import type { RateLimit, Source } from '../sources/source.js';
import { RateLimiter } from './rate-limit.js';

export interface SenderLimitSettings {
  /** `TW_PREREAD_RATE_FACTOR`: a rate-limited source's pre-read bucket is this many times its rate_limit. */
  preReadFactor: number;
  /** `TW_ADDRESS_FAILURES_BURST` / `_PER_MINUTE`: failed verifications a client address may make at a source. */
  addressFailures: RateLimit;
  /** `TW_SOURCE_FAILURES_BURST` / `_PER_MINUTE`: failed verifications a source takes from addresses it does not know. */
  sourceFailures: RateLimit;
}

/** Why a request is refused before its body is read, for the 429, the message and tw_load_shed_total. */
export interface Refusal {
  reason: 'address_failures' | 'source_failures' | 'preread_rate';
  message: string;
  retryAfterSeconds: number;
}

/** Source × client address (or /64) pairs tracked at most, per kind. */
const MAX_ADDRESSES = 100_000;
/** How long an address that passed verification counts as one of the source's senders. */
const KNOWN_SENDER_MS = 60 * 60_000;

/**
 * What a request for a known source may cost, decided in two steps around the body (docs/api.md,
 * "Limits before the body is read"):
 *
 * - `admit`, before the body is read or a MAC computed: an address that failed verification at the
 *   source too often is refused (per address, so one flooder does not touch anyone else), then a source whose
 *   verifications failed too often refuses addresses it does not know, and a rate-limited source
 *   refuses past a pre-read bucket several times its rate. Addresses that passed verification for
 *   the source in the last hour skip both source-wide checks, so no flood of strangers can starve
 *   a sender that is already known; their requests are still counted by the source's own rate
 *   limit after verification.
 * - `verified` / `failed`, after verification: the authenticated rate limit (`take`, the contract's
 *   429), and the failure counts.
 */
export class SenderLimits {
  private readonly authenticated = new RateLimiter();
  private readonly preRead = new RateLimiter();
  private readonly sourceFailures = new RateLimiter();
  private readonly addressFailures = new RateLimiter(MAX_ADDRESSES);
  /** `<source> <address key>` → when it last passed verification (insertion order = least recent first). */
  private readonly knownSenders = new Map<string, number>();

  constructor(private readonly settings: SenderLimitSettings) {}

  admit(source: Source, address: string | null, nowMs: number): Refusal | undefined {
    const sender = senderKey(source, address);
    if (sender !== undefined) {
      const ownFailures = this.addressFailures.peek(sender, this.settings.addressFailures, nowMs);
      if (!ownFailures.allowed) {
        return {
          reason: 'address_failures',
          message: `Too many failed signature verifications for source '${source.name}' from this address; retry later`,
          retryAfterSeconds: ownFailures.retryAfterSeconds,
        };
      }
      const seen = this.knownSenders.get(sender);
      if (seen !== undefined && nowMs - seen < KNOWN_SENDER_MS) return undefined;
    }
    const failures = this.sourceFailures.peek(source.name, this.settings.sourceFailures, nowMs);
    if (!failures.allowed) {
      return {
        reason: 'source_failures',
        message: `Too many failed signature verifications for source '${source.name}'; retry later`,
        retryAfterSeconds: failures.retryAfterSeconds,
      };
    }
    if (source.rateLimit) {
      const factor = this.settings.preReadFactor;
      const limit = { requestsPerSecond: source.rateLimit.requestsPerSecond * factor, burst: source.rateLimit.burst * factor };
      const decision = this.preRead.take(source.name, limit, nowMs);
      if (!decision.allowed) {
        return {
          reason: 'preread_rate',
          message: `Rate limit of ${source.rateLimit.requestsPerSecond} requests/s exceeded for source '${source.name}'`,
          retryAfterSeconds: decision.retryAfterSeconds,
        };
      }
    }
    return undefined;
  }

  /** A request that failed verification: counted against its address and its source. */
  failed(source: Source, address: string | null, nowMs: number): void {
    const sender = senderKey(source, address);
    if (sender !== undefined) this.addressFailures.take(sender, this.settings.addressFailures, nowMs);
    this.sourceFailures.take(source.name, this.settings.sourceFailures, nowMs);
  }

  /** A verified request: its address is one of the source's senders now, and the source's own rate limit applies. */
  verified(source: Source, address: string | null, nowMs: number) {
    const sender = senderKey(source, address);
    if (sender !== undefined) {
      this.knownSenders.delete(sender);
      this.knownSenders.set(sender, nowMs);
      if (this.knownSenders.size > MAX_ADDRESSES) this.knownSenders.delete(this.knownSenders.keys().next().value!);
    }
    return source.rateLimit ? this.authenticated.take(source.name, source.rateLimit, nowMs) : ({ allowed: true } as const);
  }

  /** Forgets the buckets of sources that are gone. */
  retain(sourceNames: ReadonlySet<string>): void {
    for (const buckets of [this.authenticated, this.preRead, this.sourceFailures]) buckets.retain((name) => sourceNames.has(name));
    const ofKnownSource = (key: string) => sourceNames.has(key.slice(0, key.indexOf(' ')));
    this.addressFailures.retain(ofKnownSource);
    for (const key of this.knownSenders.keys()) if (!ofKnownSource(key)) this.knownSenders.delete(key);
  }
}

/** `<source> <address key>`: what the address failures and the known senders are kept by. */
function senderKey(source: Source, address: string | null): string | undefined {
  return address === null ? undefined : `${source.name} ${addressKey(address)}`;
}

/**
 * What a client address is limited by: an IPv4 address itself, an IPv6 address by its /64 (one
 * subscriber's network, which hands its hosts any address in it). The address is one
 * clientAddress() returned, so it is a valid IP.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const zone = address.indexOf('%');
  const [head = '', tail] = (zone === -1 ? address : address.slice(0, zone)).split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  if (tail !== undefined) {
    const right = groups(tail);
    // A dotted IPv4 at the end fills two groups.
    const rightGroups = right.length + (right.at(-1)?.includes('.') ? 1 : 0);
    left.push(...Array<string>(Math.max(0, 8 - left.length - rightGroups)).fill('0'), ...right);
  }
  return `${left
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
