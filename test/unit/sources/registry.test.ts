import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { err } from '../../../src/core/result.js';
import { SourceRegistry, type SourceConflict, type SourceStatus } from '../../../src/sources/registry.js';
import { servingClaim, type Source, type SourceClaim, type SourceProvider } from '../../../src/sources/source.js';
import { testSource } from '../../helpers/source.js';

/** A provider whose claims the test pushes by hand. */
class FakeProvider implements SourceProvider {
  started = false;
  stopped = false;
  private isSynced = false;
  private listener: ((claims: readonly SourceClaim[]) => void) | undefined;

  constructor(readonly id: string) {}

  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  synced(): boolean {
    return this.isSynced;
  }
  onChange(listener: (claims: readonly SourceClaim[]) => void): void {
    this.listener = listener;
  }
  /** Undated, servable claims with origin `<provider>:<name>`. */
  emit(...names: string[]): void {
    this.emitClaims(...names.map((name) => servingClaim(testSource({ name, origin: `${this.id}:${name}` }))));
  }
  emitClaims(...claims: SourceClaim[]): void {
    this.isSynced = true;
    this.listener?.(claims);
  }
}

/** A dated claim of `name` declared at `origin`, servable unless `problem` or suspended. */
function claim(name: string, origin: string, claimedAt: number, options: { problem?: string; suspended?: boolean } = {}): SourceClaim {
  if (options.problem) return { name, origin, claimedAt, source: err({ reason: options.problem, message: `${options.problem} for ${origin}` }) };
  return servingClaim(testSource({ name, origin, enabled: !options.suspended }), claimedAt);
}

function setup() {
  const file = new FakeProvider('file');
  const kubernetes = new FakeProvider('kubernetes');
  const conflicts: SourceConflict[] = [];
  const registry = new SourceRegistry([file, kubernetes], { onConflict: (conflict) => conflicts.push(conflict) });
  const statusBatches: (readonly SourceStatus[])[] = [];
  registry.onStatus((changed) => statusBatches.push(changed));
  return { file, kubernetes, registry, conflicts, statusBatches };
}

describe('source registry: the index', () => {
  it('merges the sets of all providers into one index', () => {
    const { file, kubernetes, registry } = setup();
    file.emit('email-gateway');
    kubernetes.emit('edr', 'siem');
    assert.equal(registry.get('email-gateway')?.origin, 'file:email-gateway');
    assert.equal(registry.get('edr')?.origin, 'kubernetes:edr');
    assert.equal(registry.get('nope'), undefined);
    assert.deepEqual(
      registry
        .list()
        .map((s) => s.name)
        .sort(),
      ['edr', 'email-gateway', 'siem'],
    );
  });

  it('replaces a provider set whole: removed sources disappear', () => {
    const { file, registry } = setup();
    file.emit('a', 'b');
    file.emit('b');
    assert.equal(registry.get('a'), undefined);
    assert.ok(registry.get('b'));
  });

  it('swaps in the complete new index before anyone is told of the change', () => {
    const { file, registry } = setup();
    file.emit('a', 'b');
    let seenDuringChange: (Source | undefined)[] = [];
    registry.onChange(() => (seenDuringChange = ['a', 'b', 'c'].map((name) => registry.get(name))));
    file.emit('c');
    assert.deepEqual(
      seenDuringChange.map((s) => s?.name),
      [undefined, undefined, 'c'],
    );
  });

  it('is ready only once every provider has synced', () => {
    const { file, kubernetes, registry } = setup();
    assert.equal(registry.ready(), false);
    file.emit();
    assert.equal(registry.ready(), false);
    kubernetes.emit();
    assert.equal(registry.ready(), true);
    assert.equal(new SourceRegistry([]).ready(), true);
  });

  it('tells change listeners the merged set', () => {
    const { file, registry } = setup();
    const seen: string[][] = [];
    registry.onChange((sources) => seen.push(sources.map((s) => s.name)));
    file.emit('a');
    file.emit('a', 'b');
    assert.deepEqual(seen, [['a'], ['a', 'b']]);
  });

  it('starts and stops every provider', async () => {
    const { file, kubernetes, registry } = setup();
    await registry.start();
    assert.ok(file.started && kubernetes.started);
    await registry.stop();
    assert.ok(file.stopped && kubernetes.stopped);
  });
});

describe('source registry: who holds a name claimed twice', () => {
  it('gives it to the oldest claim across providers, whatever the order of arrival', () => {
    const { file, kubernetes, registry } = setup();
    kubernetes.emitClaims(claim('edr', 'kubernetes:team-a/edr', 2_000));
    file.emitClaims(claim('edr', 'file:late', 3_000));
    assert.equal(registry.get('edr')?.origin, 'kubernetes:team-a/edr', 'the younger file claim does not take it over');
    kubernetes.emitClaims(claim('edr', 'kubernetes:team-a/edr', 2_000), claim('edr', 'kubernetes:team-b/edr', 1_000));
    assert.equal(registry.get('edr')?.origin, 'kubernetes:team-b/edr');
  });

  it('ranks an undated claim (the file) before any dated one, even of a provider registered first', () => {
    const kubernetes = new FakeProvider('kubernetes');
    const file = new FakeProvider('file');
    const registry = new SourceRegistry([kubernetes, file]);
    kubernetes.emitClaims(claim('edr', 'kubernetes:ns/edr', 1));
    file.emit('edr');
    assert.equal(registry.get('edr')?.origin, 'file:edr');
  });

  it('breaks a tie of equal times by provider order, then by origin whatever the listing order', () => {
    const { file, kubernetes, registry } = setup();
    kubernetes.emitClaims(claim('edr', 'kubernetes:ns/b', 5_000), claim('edr', 'kubernetes:ns/a', 5_000));
    assert.equal(registry.get('edr')?.origin, 'kubernetes:ns/a');
    kubernetes.emitClaims(claim('edr', 'kubernetes:ns/a', 5_000), claim('edr', 'kubernetes:ns/b', 5_000));
    assert.equal(registry.get('edr')?.origin, 'kubernetes:ns/a', 'replicas listing objects in another order agree');
    file.emitClaims(claim('edr', 'file:dated', 5_000));
    assert.equal(registry.get('edr')?.origin, 'file:dated', 'the provider registered first wins a tie');
  });

  it('reports a conflict once, holder first, and again only after it cleared and came back', () => {
    const { file, kubernetes, registry, conflicts } = setup();
    kubernetes.emit('edr');
    file.emit('edr');
    kubernetes.emit('edr', 'other');
    assert.deepEqual(conflicts, [{ name: 'edr', providers: ['file', 'kubernetes'], origins: ['file:edr', 'kubernetes:edr'] }]);
    assert.equal(registry.statusesAt('kubernetes:edr')[0]?.state, 'conflict');
    kubernetes.emit();
    assert.deepEqual(registry.statusesAt('kubernetes:edr'), []);
    assert.equal(registry.get('edr')?.origin, 'file:edr');
    kubernetes.emit('edr');
    assert.equal(conflicts.length, 2);
  });

  it('reports a name declared twice by one provider, the first declaration serving', () => {
    const { file, registry, conflicts } = setup();
    file.emit('edr', 'edr');
    assert.deepEqual(
      conflicts.map((c) => c.providers),
      [['file', 'file']],
    );
    assert.ok(registry.get('edr'));
  });
});

describe('source registry: per-claim status', () => {
  it('reports serving, suspended and invalid claims with their reasons', () => {
    const { kubernetes, registry } = setup();
    kubernetes.emitClaims(
      claim('edr', 'kubernetes:ns/edr', 1),
      claim('siem', 'kubernetes:ns/siem', 1, { suspended: true }),
      claim('mail', 'kubernetes:ns/mail', 1, { problem: 'SecretNotFound' }),
    );
    assert.deepEqual(registry.statusesAt('kubernetes:ns/edr'), [{ name: 'edr', origin: 'kubernetes:ns/edr', provider: 'kubernetes', state: 'serving' }]);
    assert.deepEqual(registry.statusesAt('kubernetes:ns/siem'), [
      {
        name: 'siem',
        origin: 'kubernetes:ns/siem',
        provider: 'kubernetes',
        state: 'suspended',
        reason: 'Suspended',
        message: 'suspended: requests answer unknown_source',
      },
    ]);
    assert.deepEqual(registry.statusesAt('kubernetes:ns/mail'), [
      {
        name: 'mail',
        origin: 'kubernetes:ns/mail',
        provider: 'kubernetes',
        state: 'invalid',
        reason: 'SecretNotFound',
        message: 'SecretNotFound for kubernetes:ns/mail',
      },
    ]);
    assert.equal(registry.get('mail'), undefined, 'an invalid claim is not served');
    assert.equal(registry.get('siem')?.enabled, false, 'a suspended source stays indexed and answers unknown_source');
    assert.deepEqual(registry.statusesAt('kubernetes:ns/gone'), []);
  });

  it("names the holder in the younger claim's conflict status, also while the holder cannot be served", () => {
    const { kubernetes, registry } = setup();
    kubernetes.emitClaims(claim('edr', 'kubernetes:a/edr', 1_000, { problem: 'SecretNotFound' }), claim('edr', 'kubernetes:b/edr', 2_000));
    assert.equal(registry.get('edr'), undefined, 'the older claim keeps the name through its Secret outage');
    assert.deepEqual(registry.statusesAt('kubernetes:b/edr'), [
      {
        name: 'edr',
        origin: 'kubernetes:b/edr',
        provider: 'kubernetes',
        state: 'conflict',
        heldBy: 'kubernetes:a/edr',
        reason: 'SourceConflict',
        message: "source name 'edr' is held by kubernetes:a/edr, an older claim",
      },
    ]);
  });

  it('lists every name of an origin that declares several (the file)', () => {
    const { file, registry } = setup();
    file.emitClaims(...['a', 'b'].map((name) => servingClaim(testSource({ name, origin: 'file:/etc/tw/webhook_config.yaml' }))));
    assert.deepEqual(
      registry.statusesAt('file:/etc/tw/webhook_config.yaml').map((s) => [s.name, s.state]),
      [
        ['a', 'serving'],
        ['b', 'serving'],
      ],
    );
  });

  it('tells status listeners only the claims whose state changed', () => {
    const { kubernetes, statusBatches } = setup();
    kubernetes.emitClaims(claim('edr', 'kubernetes:a/edr', 1_000), claim('edr', 'kubernetes:b/edr', 2_000), claim('siem', 'kubernetes:a/siem', 1));
    assert.deepEqual(
      statusBatches.at(-1)?.map((s) => [s.origin, s.state]),
      [
        ['kubernetes:a/edr', 'serving'],
        ['kubernetes:b/edr', 'conflict'],
        ['kubernetes:a/siem', 'serving'],
      ],
    );
    kubernetes.emitClaims(claim('edr', 'kubernetes:a/edr', 1_000), claim('edr', 'kubernetes:b/edr', 2_000), claim('siem', 'kubernetes:a/siem', 1));
    assert.equal(statusBatches.length, 1, 'an unchanged set tells nobody');
    kubernetes.emitClaims(claim('edr', 'kubernetes:b/edr', 2_000), claim('siem', 'kubernetes:a/siem', 1));
    assert.deepEqual(
      statusBatches.at(-1),
      [{ name: 'edr', origin: 'kubernetes:b/edr', provider: 'kubernetes', state: 'serving' }],
      'the younger claim takes the name over once the older is deleted',
    );
  });
});

describe('source registry: last event time', () => {
  it('keeps the last accepted event per source and forgets it when the source goes away', () => {
    const { file, registry } = setup();
    file.emit('edr');
    assert.equal(registry.lastEventAt('edr'), undefined);
    registry.recordEvent('edr', 1_000);
    registry.recordEvent('edr', 2_000);
    assert.equal(registry.lastEventAt('edr'), 2_000);
    file.emit('edr', 'siem');
    assert.equal(registry.lastEventAt('edr'), 2_000, 'kept across unrelated changes');
    file.emit('siem');
    assert.equal(registry.lastEventAt('edr'), undefined);
  });
});
