/** The per-source token bucket as a pure step: the clock is passed in, so each case is exact. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../src/http/rate-limit.js';

const LIMIT = { requestsPerSecond: 2, burst: 3 };
const ALLOWED = { allowed: true };

describe('RateLimiter', () => {
  it('admits a full burst at once, then refuses with the seconds until the next token', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('edr', LIMIT, 0), ALLOWED, `request ${i + 1} of the burst`);
    // Empty: one token takes 1/2 s at 2 per second, rounded up to whole seconds.
    assert.deepEqual(limiter.take('edr', LIMIT, 0), { allowed: false, retryAfterSeconds: 1 });
  });

  it('refills at the sustained rate, a token at a time', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) limiter.take('edr', LIMIT, 0);
    assert.equal(limiter.take('edr', LIMIT, 499).allowed, false, 'not yet a whole token after 499 ms');
    assert.deepEqual(limiter.take('edr', LIMIT, 500), ALLOWED, 'a whole token after 500 ms');
    assert.equal(limiter.take('edr', LIMIT, 500).allowed, false, 'and only one');
  });

  it('never holds more than the burst, however long the source was quiet', () => {
    const limiter = new RateLimiter();
    limiter.take('edr', LIMIT, 0);
    const later = 3_600_000;
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('edr', LIMIT, later), ALLOWED);
    assert.equal(limiter.take('edr', LIMIT, later).allowed, false);
  });

  it('says how long the wait is when the rate is slow', () => {
    const limiter = new RateLimiter();
    const slow = { requestsPerSecond: 0.1, burst: 1 };
    assert.deepEqual(limiter.take('edr', slow, 0), ALLOWED);
    assert.deepEqual(limiter.take('edr', slow, 0), { allowed: false, retryAfterSeconds: 10 });
    // Refused requests take nothing: 4 s later 0.4 of a token is there, 6 s to go.
    assert.deepEqual(limiter.take('edr', slow, 4_000), { allowed: false, retryAfterSeconds: 6 });
    assert.deepEqual(limiter.take('edr', slow, 10_000), ALLOWED);
  });

  it('keeps one bucket per source', () => {
    const limiter = new RateLimiter();
    const one = { requestsPerSecond: 1, burst: 1 };
    assert.deepEqual(limiter.take('edr', one, 0), ALLOWED);
    assert.deepEqual(limiter.take('siem', one, 0), ALLOWED, "another source's bucket is full");
    assert.equal(limiter.take('edr', one, 0).allowed, false);
  });

  it('forgets the buckets of sources that are gone, and only those', () => {
    const limiter = new RateLimiter();
    const one = { requestsPerSecond: 1, burst: 1 };
    limiter.take('edr', one, 0);
    limiter.take('siem', one, 0);
    limiter.retain((source) => source === 'siem');
    assert.deepEqual(limiter.take('edr', one, 0), ALLOWED, 'a source registered again starts with a full bucket');
    assert.equal(limiter.take('siem', one, 0).allowed, false, 'a retained bucket keeps its state');
  });
});

/** How many of `count` takes in a row (at one instant) a bucket allows. */
function allowedInARow(limiter: RateLimiter, limit: { requestsPerSecond: number; burst: number }, nowMs: number, count = 100): number {
  let allowed = 0;
  for (let index = 0; index < count; index++) if (limiter.take('edr', limit, nowMs).allowed) allowed++;
  return allowed;
}

describe('RateLimiter: idling, peeking, its size', () => {
  it('refills to its burst and no further, however long it idles', () => {
    const limiter = new RateLimiter();
    const limit = { requestsPerSecond: 2, burst: 3 };
    assert.equal(allowedInARow(limiter, limit, 0), 3, 'a fresh bucket holds the burst');
    // Idle for 10 minutes: 1200 tokens' worth of refill, capped at 3.
    assert.equal(allowedInARow(limiter, limit, 600_000), 3, 'after a long idle, exactly the burst again');
    assert.equal(allowedInARow(limiter, limit, 600_500), 1, 'half a second at 2/s: one token');
    assert.equal(allowedInARow(limiter, limit, 3_600_000), 3);
  });

  it('says when the next token comes', () => {
    const limiter = new RateLimiter();
    const limit = { requestsPerSecond: 0.25, burst: 1 };
    assert.ok(limiter.take('edr', limit, 0).allowed);
    assert.deepEqual(limiter.take('edr', limit, 0), { allowed: false, retryAfterSeconds: 4 });
    assert.deepEqual(limiter.take('edr', limit, 3_000), { allowed: false, retryAfterSeconds: 1 });
    assert.ok(limiter.take('edr', limit, 4_000).allowed);
  });

  it('peeks without taking', () => {
    const limiter = new RateLimiter();
    const limit = { requestsPerSecond: 1, burst: 1 };
    for (let index = 0; index < 5; index++) assert.ok(limiter.peek('edr', limit, 0).allowed);
    assert.ok(limiter.take('edr', limit, 0).allowed);
    assert.equal(limiter.peek('edr', limit, 0).allowed, false);
  });

  it('forgets the longest-untouched keys past its size, never the one just used', () => {
    const limiter = new RateLimiter(2);
    const limit = { requestsPerSecond: 1, burst: 1 };
    limiter.take('a', limit, 0);
    limiter.take('b', limit, 0);
    limiter.take('a', limit, 0); // a is the most recent now
    limiter.take('c', limit, 0); // b goes
    assert.equal(limiter.peek('a', limit, 0).allowed, false, 'a is still spent');
    assert.equal(limiter.peek('c', limit, 0).allowed, false, 'c is spent');
    assert.equal(limiter.peek('b', limit, 0).allowed, true, 'b was forgotten: a full bucket is the same as none');
  });

  it('keeps no bucket for a key it only peeked at, so peeks at strangers never push out a spent one', () => {
    const limiter = new RateLimiter(1);
    const limit = { requestsPerSecond: 1, burst: 1 };
    limiter.take('known', limit, 0);
    for (const stranger of ['x', 'y', 'z']) assert.ok(limiter.peek(stranger, limit, 0).allowed);
    assert.equal(limiter.take('known', limit, 0).allowed, false, 'the spent bucket is still there');
  });
});
