import type { RateLimit } from '../sources/source.js';

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Per-source token buckets, counted only for authenticated requests (so strangers cannot drain a
 * sender's budget). Per replica: N replicas admit up to N × the rate, documented in the README.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  take(source: string, limit: RateLimit, nowMs: number): RateDecision {
    const bucket = this.buckets.get(source) ?? { tokens: limit.burst, updatedAtMs: nowMs };
    const refilled = Math.min(limit.burst, bucket.tokens + ((nowMs - bucket.updatedAtMs) / 1000) * limit.requestsPerSecond);
    if (refilled >= 1) {
      this.buckets.set(source, { tokens: refilled - 1, updatedAtMs: nowMs });
      return { allowed: true };
    }
    this.buckets.set(source, { tokens: refilled, updatedAtMs: nowMs });
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - refilled) / limit.requestsPerSecond)) };
  }

  /** Drops buckets of sources that are gone, so a churning registry does not grow this map. */
  retain(sourceNames: ReadonlySet<string>): void {
    for (const name of this.buckets.keys()) if (!sourceNames.has(name)) this.buckets.delete(name);
  }
}
