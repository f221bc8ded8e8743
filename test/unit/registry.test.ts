import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceRegistry, type SourceConflict } from '../../src/sources/registry.js';
import type { Source, SourceProvider } from '../../src/sources/source.js';
import { testSource } from '../helpers/source.js';

/** A provider whose set the test pushes by hand. */
class FakeProvider implements SourceProvider {
  started = false;
  stopped = false;
  private isSynced = false;
  private listener: ((sources: readonly Source[]) => void) | undefined;

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
  onChange(listener: (sources: readonly Source[]) => void): void {
    this.listener = listener;
  }
  emit(...names: string[]): void {
    this.isSynced = true;
    this.listener?.(names.map((name) => testSource({ name, origin: `${this.id}:${name}` })));
  }
}

function setup() {
  const file = new FakeProvider('file');
  const kubernetes = new FakeProvider('kubernetes');
  const conflicts: SourceConflict[] = [];
  const registry = new SourceRegistry([file, kubernetes], { onConflict: (conflict) => conflicts.push(conflict) });
  return { file, kubernetes, registry, conflicts };
}

describe('source registry', () => {
  it('merges the sets of all providers into one index', () => {
    const { file, kubernetes, registry } = setup();
    file.emit('email-gateway');
    kubernetes.emit('edr', 'siem');
    assert.equal(registry.get('email-gateway')?.origin, 'file:email-gateway');
    assert.equal(registry.get('edr')?.origin, 'kubernetes:edr');
    assert.equal(registry.get('nope'), undefined);
    assert.deepEqual(registry.list().map((s) => s.name).sort(), ['edr', 'email-gateway', 'siem']);
  });

  it('replaces a provider set whole: removed sources disappear', () => {
    const { file, registry } = setup();
    file.emit('a', 'b');
    file.emit('b');
    assert.equal(registry.get('a'), undefined);
    assert.ok(registry.get('b'));
  });

  it('keeps a name with the first registered provider and reports the conflict once', () => {
    const { file, kubernetes, registry, conflicts } = setup();
    kubernetes.emit('edr');
    assert.equal(registry.get('edr')?.origin, 'kubernetes:edr');
    file.emit('edr');
    assert.equal(registry.get('edr')?.origin, 'file:edr', 'registration order decides, not arrival order');
    kubernetes.emit('edr', 'other');
    assert.deepEqual(conflicts, [{ name: 'edr', providers: ['file', 'kubernetes'], origins: ['file:edr', 'kubernetes:edr'] }]);
    assert.deepEqual(registry.conflicts(), conflicts);
  });

  it('clears a conflict when one claimant goes away, and reports it again if it returns', () => {
    const { file, kubernetes, registry, conflicts } = setup();
    file.emit('edr');
    kubernetes.emit('edr');
    kubernetes.emit();
    assert.deepEqual(registry.conflicts(), []);
    assert.equal(registry.get('edr')?.origin, 'file:edr');
    kubernetes.emit('edr');
    assert.equal(conflicts.length, 2);
  });

  it('reports a name declared twice by one provider, the first declaration serving', () => {
    const { file, registry, conflicts } = setup();
    file.emit('edr', 'edr');
    assert.deepEqual(conflicts.map((c) => c.providers), [['file', 'file']]);
    assert.ok(registry.get('edr'));
  });

  it('swaps in the complete new index before anyone is told of the change', () => {
    const { file, registry } = setup();
    file.emit('a', 'b');
    let seenDuringChange: (Source | undefined)[] = [];
    registry.onChange(() => (seenDuringChange = ['a', 'b', 'c'].map((name) => registry.get(name))));
    file.emit('c');
    assert.deepEqual(seenDuringChange.map((s) => s?.name), [undefined, undefined, 'c']);
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
