/** coordination.k8s.io/v1 Lease `spec`, with MicroTime fields as the wire strings. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

/** Wall-clock time in microseconds since the epoch (a double holds it exactly until the year 2255). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** metav1.MicroTime's wire form, `2026-12-02T05:50:00.123456Z`: six fractional digits, as the API server parses it. */
export function microTime(epochMicros: number): string {
  const millis = Math.floor(epochMicros / 1000);
  const micros = String(epochMicros % 1000).padStart(3, '0');
  return `${new Date(millis).toISOString().slice(0, -1)}${micros}Z`;
}

export function newLease(identity: string, durationSeconds: number, now: number): LeaseSpec {
  const time = microTime(now);
  return { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: time, renewTime: time, leaseTransitions: 0 };
}

export type LeaseDecision = { kind: 'held'; holder: string } | { kind: 'write'; spec: LeaseSpec };

/**
 * client-go's tryAcquireOrRenew, as a pure step. Expiry is judged by *our* clock from when we last
 * saw the record change (`observedAt`), never by the holder's renewTime, so clock skew between
 * nodes cannot hand the lease over early. Taking it from someone else counts a transition.
 */
export function decideLease(current: LeaseSpec, identity: string, durationSeconds: number, now: number, observedAt: number): LeaseDecision {
  const holder = current.holderIdentity ?? '';
  const heldFor = (current.leaseDurationSeconds ?? durationSeconds) * 1_000_000;
  if (holder !== '' && holder !== identity && observedAt + heldFor > now) return { kind: 'held', holder };
  const time = microTime(now);
  const ours = holder === identity;
  return {
    kind: 'write',
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: ours ? (current.acquireTime ?? time) : time,
      renewTime: time,
      leaseTransitions: ours ? (current.leaseTransitions ?? 0) : (current.leaseTransitions ?? 0) + 1,
    },
  };
}

/** client-go's release: no holder and a one-second duration, so any candidate takes over at its next try. */
export function releasedLease(current: LeaseSpec, now: number): LeaseSpec {
  const time = microTime(now);
  return { holderIdentity: null, leaseDurationSeconds: 1, acquireTime: time, renewTime: time, leaseTransitions: current.leaseTransitions ?? 0 };
}
