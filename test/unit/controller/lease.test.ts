import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideLease, microTime, newLease, releasedLease } from '../../../src/controller/lease.js';

const SECOND = 1_000_000;
const T0 = Date.parse('2026-12-02T05:50:00Z') * 1000 + 123_456;

describe('leader lease', () => {
  it('writes MicroTime with six fractional digits', () => {
    assert.equal(microTime(T0), '2026-12-02T05:50:00.123456Z');
    assert.equal(microTime(T0 - 123_456 + 7), '2026-12-02T05:50:00.000007Z');
  });

  it('creates a lease held by the candidate', () => {
    assert.deepEqual(newLease('pod-a', 15, T0), {
      holderIdentity: 'pod-a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(T0),
      renewTime: microTime(T0),
      leaseTransitions: 0,
    });
  });

  it('leaves a lease held by another candidate alone until its duration passed since we saw it change', () => {
    const held = newLease('pod-a', 15, T0);
    assert.deepEqual(decideLease(held, 'pod-b', 15, T0 + 14 * SECOND, T0), { kind: 'held', holder: 'pod-a' });
    const taken = decideLease(held, 'pod-b', 15, T0 + 16 * SECOND, T0);
    assert.equal(taken.kind, 'write');
    assert.equal(taken.kind === 'write' && taken.spec.holderIdentity, 'pod-b');
    assert.equal(taken.kind === 'write' && taken.spec.leaseTransitions, 1);
    assert.equal(taken.kind === 'write' && taken.spec.acquireTime, microTime(T0 + 16 * SECOND));
  });

  it('judges expiry by our clock, not the holder’s renewTime (clock skew)', () => {
    const renewedLongAgo = newLease('pod-a', 15, T0 - 3600 * SECOND);
    assert.equal(decideLease(renewedLongAgo, 'pod-b', 15, T0 + SECOND, T0).kind, 'held');
  });

  it('renews its own lease keeping acquireTime and transitions', () => {
    const held = { ...newLease('pod-a', 15, T0), leaseTransitions: 4 };
    const renewed = decideLease(held, 'pod-a', 15, T0 + 2 * SECOND, T0);
    assert.deepEqual(renewed, {
      kind: 'write',
      spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: microTime(T0), renewTime: microTime(T0 + 2 * SECOND), leaseTransitions: 4 },
    });
  });

  it('is free at once after a release', () => {
    const released = releasedLease({ ...newLease('pod-a', 15, T0), leaseTransitions: 2 }, T0 + SECOND);
    assert.equal(released.holderIdentity, null);
    assert.equal(released.leaseTransitions, 2);
    const next = decideLease(released, 'pod-b', 15, T0 + SECOND + 1, T0 + SECOND);
    assert.equal(next.kind === 'write' && next.spec.holderIdentity, 'pod-b');
    assert.equal(next.kind === 'write' && next.spec.leaseTransitions, 3);
  });
});
