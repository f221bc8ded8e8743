import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredStatus, sameStatus, transition, type DesiredStatusInput } from '../../../src/controller/desired-status.js';
import { resolveSecret, toCachedWebhookSource, type SecretObject, type CachedWebhookSource } from '../../../src/kubernetes/webhook-source.js';
import type { WebhookSourceStatus } from '../../../src/kubernetes/webhook-source-crd.js';

function object(overrides: Partial<CachedWebhookSource> = {}): CachedWebhookSource {
  return {
    namespace: 'team-a',
    name: 'edr',
    uid: 'uid-1',
    resourceVersion: '10',
    generation: 3,
    creationTimestamp: '2026-12-01T00:00:00Z',
    spec: { secretRef: { name: 'edr-secret' } },
    status: {},
    previousKeyExpiresAt: undefined,
    ...overrides,
  };
}

const resolved = { state: 'resolved', secrets: [Buffer.from('s')], missingPreviousKey: false } as const;
const NOW = '2026-12-02T05:50:00Z';

function input(overrides: Partial<DesiredStatusInput> = {}): DesiredStatusInput {
  return { object: object(), secret: resolved, claim: { holder: 'self' }, now: NOW, lastEventAt: undefined, ...overrides };
}

const condition = (status: WebhookSourceStatus, type: string) => status.conditions?.find((c) => c.type === type);

describe('desiredStatus', () => {
  it('is Ready with the generation, the source name defaulted to metadata.name and the webhook path', () => {
    const status = desiredStatus(input());
    assert.equal(status.observedGeneration, 3);
    assert.equal(status.sourceName, 'edr');
    assert.equal(status.webhookPath, '/api/webhooks/edr');
    assert.deepEqual(
      status.conditions?.map(({ type, status: value, reason, observedGeneration, lastTransitionTime }) => ({
        type,
        value,
        reason,
        observedGeneration,
        lastTransitionTime,
      })),
      [
        { type: 'Ready', value: 'True', reason: 'Serving', observedGeneration: 3, lastTransitionTime: NOW },
        { type: 'SecretResolved', value: 'True', reason: 'SecretResolved', observedGeneration: 3, lastTransitionTime: NOW },
      ],
    );
  });

  it('uses spec.sourceName for the path when set', () => {
    const status = desiredStatus(input({ object: object({ spec: { sourceName: 'falcon', secretRef: { name: 'x' } } }) }));
    assert.equal(status.webhookPath, '/api/webhooks/falcon');
    assert.equal(status.sourceName, 'falcon');
  });

  for (const [secret, reason] of [
    [{ state: 'not-found' }, 'SecretNotFound'],
    [{ state: 'unlabelled' }, 'SecretNotLabelled'],
    [{ state: 'key-missing', key: 'secret' }, 'KeyMissing'],
  ] as const) {
    it(`reports ${reason} on both conditions`, () => {
      const status = desiredStatus(input({ secret }));
      assert.equal(condition(status, 'SecretResolved')?.status, 'False');
      assert.equal(condition(status, 'SecretResolved')?.reason, reason);
      assert.equal(condition(status, 'Ready')?.status, 'False');
      assert.equal(condition(status, 'Ready')?.reason, reason);
    });
  }

  it('names the holder on a SourceConflict', () => {
    const status = desiredStatus(input({ claim: { holder: 'other', heldBy: 'team-b/older' } }));
    assert.equal(condition(status, 'Ready')?.reason, 'SourceConflict');
    assert.match(condition(status, 'Ready')!.message, /team-b\/older/);
    assert.equal(condition(status, 'SecretResolved')?.status, 'True');
  });

  it("says InvalidFilter with the compiler's message, before a secret problem, while the secret itself resolves", () => {
    const spec = { secretRef: { name: 'edr-secret' }, filter: { match: 'payload.(', severity: 'nope()' } };
    const status = desiredStatus(input({ object: object({ spec }) }));
    assert.deepEqual(
      { ...condition(status, 'Ready'), lastTransitionTime: undefined },
      {
        type: 'Ready',
        status: 'False',
        reason: 'InvalidFilter',
        message: "spec.filter.match: 1:8: found . but expecting end of input; spec.filter.severity: unknown function 'nope'",
        observedGeneration: 3,
        lastTransitionTime: undefined,
      },
    );
    assert.equal(condition(status, 'SecretResolved')?.status, 'True');
    assert.equal(condition(desiredStatus(input({ object: object({ spec }), secret: { state: 'not-found' } })), 'Ready')?.reason, 'InvalidFilter');
  });

  it('says Suspended before anything else', () => {
    const status = desiredStatus(input({ object: object({ spec: { suspend: true, secretRef: { name: 'x' } } }), secret: { state: 'not-found' } }));
    assert.equal(condition(status, 'Ready')?.reason, 'Suspended');
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it on a change', () => {
    const first = desiredStatus(input());
    const later = '2026-12-02T06:00:00Z';
    const unchanged = desiredStatus(input({ object: object({ status: first }), now: later }));
    assert.ok(sameStatus(first, unchanged), 'nothing to write when nothing changed');
    const broken = desiredStatus(input({ object: object({ status: first }), now: later, secret: { state: 'not-found' } }));
    assert.equal(condition(broken, 'Ready')?.lastTransitionTime, later);
    assert.equal(transition(first, broken)?.reason, 'SecretNotFound');
    assert.equal(transition(first, unchanged), undefined);
  });

  it('writes lastEventTime at most once a minute', () => {
    const at = Date.parse(NOW);
    const first = desiredStatus(input({ lastEventAt: at }));
    assert.equal(first.lastEventTime, NOW);
    const soon = desiredStatus(input({ object: object({ status: first }), lastEventAt: at + 59_000 }));
    assert.equal(soon.lastEventTime, NOW);
    const later = desiredStatus(input({ object: object({ status: first }), lastEventAt: at + 60_000 }));
    assert.equal(later.lastEventTime, '2026-12-02T05:51:00Z');
  });

  it('compares statuses regardless of key order', () => {
    assert.ok(sameStatus({ a: 1, b: [{ c: 2, d: 3 }] }, { b: [{ d: 3, c: 2 }], a: 1 }));
    assert.ok(!sameStatus({ a: 1 }, { a: 2 }));
  });
});

describe('resolveSecret', () => {
  const secret: SecretObject = {
    namespace: 'team-a',
    name: 'edr-secret',
    resourceVersion: '7',
    data: new Map([
      ['secret', Buffer.from('new')],
      ['previous', Buffer.from('old')],
    ]),
  };
  const rotating = (annotations?: Record<string, string>) =>
    toCachedWebhookSource({
      metadata: { namespace: 'team-a', name: 'edr', annotations },
      spec: { secretRef: { name: 'edr-secret', key: 'secret', previousKey: 'previous' } },
    });
  const secretsOf = (view: ReturnType<typeof resolveSecret>) => (view.state === 'resolved' ? view.secrets.map(String) : view.state);
  const EXPIRY = '2026-12-02T06:00:00Z';

  it('accepts the previous key until its expiry annotation, then only the current one', () => {
    const object = rotating({ 'triagewarden.io/previous-secret-expires-at': EXPIRY });
    assert.deepEqual(secretsOf(resolveSecret(object, secret, Date.parse(EXPIRY) - 1)), ['new', 'old']);
    assert.deepEqual(secretsOf(resolveSecret(object, secret, Date.parse(EXPIRY))), ['new']);
  });

  it('keeps the previous key without an annotation, or with one it cannot read', () => {
    for (const object of [rotating(), rotating({ 'triagewarden.io/previous-secret-expires-at': 'next tuesday' })]) {
      assert.deepEqual(secretsOf(resolveSecret(object, secret, Date.parse(EXPIRY) + 86_400_000)), ['new', 'old']);
    }
  });
});
