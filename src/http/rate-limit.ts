import type { RateLimit } from '../sources/source.js';

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Token buckets by key: `limit.burst` tokens at most, refilled at `limit.requestsPerSecond`. Per
 * replica: N replicas admit up to N × the rate (docs/api.md). A bucket that refilled to its burst
 * is the same as none, so past `maxKeys` the longest-untouched are forgotten, which keeps a flood
 * of distinct keys (client addresses) from growing the map.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly maxKeys = Number.POSITIVE_INFINITY) {}

  /** Takes a token if there is one. */
  take(key: string, limit: RateLimit, nowMs: number): RateDecision {
    return this.decide(key, limit, nowMs, true);
  }

  /** Whether a token is there, without taking it (limits that count failures look before and take after). */
  peek(key: string, limit: RateLimit, nowMs: number): RateDecision {
    return this.decide(key, limit, nowMs, false);
  }

  /** Drops buckets whose key `keep` refuses (sources that are gone), so a churning registry does not grow this map. */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.buckets.keys()) if (!keep(key)) this.buckets.delete(key);
  }

  private decide(key: string, limit: RateLimit, nowMs: number, taking: boolean): RateDecision {
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, updatedAtMs: nowMs };
    const refilled = Math.min(limit.burst, bucket.tokens + ((nowMs - bucket.updatedAtMs) / 1000) * limit.requestsPerSecond);
    const allowed = refilled >= 1;
    if (taking || this.buckets.has(key)) this.store(key, { tokens: allowed && taking ? refilled - 1 : refilled, updatedAtMs: nowMs });
    if (allowed) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - refilled) / limit.requestsPerSecond)) };
  }

  private store(key: string, bucket: Bucket): void {
    // Re-inserted, so the map's order is from least to most recently touched.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
