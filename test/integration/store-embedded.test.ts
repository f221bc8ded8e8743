import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { newIncident, storeContract } from '../helpers/store-contract.js';
import { pipelineContract } from '../helpers/pipeline-contract.js';
import { waitFor } from '../helpers/wait.js';

const dirs = new WeakMap<Store, string>();

storeContract('embedded (SQLite)', {
  async openStore() {
    const dir = mkdtempSync(join(tmpdir(), 'tw-store-'));
    const store = new EmbeddedStore(dir);
    await store.open();
    dirs.set(store, dir);
    return store;
  },
  async reopen(store) {
    const again = new EmbeddedStore(dirs.get(store)!);
    await again.open();
    return again;
  },
});

pipelineContract('embedded (SQLite)', {
  async openStore() {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')));
    await store.open();
    return store;
  },
});

describe('embedded store thread', () => {
  // A crash of the SQLite thread cannot be caused from outside a healthy process, so the tests end
  // the thread the way a crash would (Worker.terminate) and watch the store come back.
  const endThread = (store: EmbeddedStore) => (store as unknown as { thread: Worker }).thread.terminate();

  async function untilHealthy(store: EmbeddedStore): Promise<void> {
    await waitFor(() => store.healthy(), { timeoutMs: 10_000, intervalMs: 20, message: 'the store thread to come back' });
  }

  it('answers unavailable while its thread is gone and comes back with the data', async () => {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')), 100);
    await store.open();
    after(() => store.close());
    const first = await store.insertIncident(newIncident());

    await endThread(store);
    assert.equal(store.healthy(), false);
    await assert.rejects(store.insertIncident(newIncident()), StoreUnavailableError);

    await untilHealthy(store);
    assert.equal((await store.getIncident(first.incident.id))?.number, first.incident.number);
    const next = await store.insertIncident(newIncident());
    assert.equal(next.created, true);
    assert.notEqual(next.incident.number, first.incident.number);
  });

  it('rejects the calls in flight when the thread dies; their retries store each event once', async () => {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')), 100);
    await store.open();
    after(() => store.close());
    const incidents = Array.from({ length: 40 }, () => newIncident());

    // Half acknowledged before the crash, half sent to the thread just before it dies.
    const acknowledged = incidents.slice(0, 20).map((incident) => store.insertIncident(incident));
    await Promise.all(acknowledged);
    const inFlight = incidents.slice(20).map((incident) => store.insertIncident(incident));
    await new Promise((sent) => setImmediate(sent));
    await endThread(store);
    const outcomes = await Promise.allSettled([...acknowledged, ...inFlight]);
    for (const outcome of outcomes) if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof StoreUnavailableError);

    await untilHealthy(store);
    // What a sender does with a 503: send the same event again.
    const retried = await Promise.all(incidents.map((incident) => store.insertIncident(incident)));
    const numbers = new Set(retried.map((result) => result.incident.number));
    assert.equal(numbers.size, incidents.length, 'every event has one incident with a number of its own');
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') assert.equal(retried[index]!.created, false, 'an acknowledged event is found again, not stored twice');
    }
  });
});
