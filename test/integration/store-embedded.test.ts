import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { StoreDamagedError, StoreUnavailableError } from '../../src/core/errors.js';
import type { Store, StoreFault } from '../../src/store/store.js';
import { newIncident, storeContract } from '../helpers/store-contract.js';
import { pipelineContract } from '../helpers/pipeline-contract.js';
import { waitFor } from '../helpers/wait.js';
import Database from 'better-sqlite3';
import { SCHEMA } from '../../src/store/embedded/schema.js';
import { damageRootPagesUnder, dataPagesInTheMiddle, overwritePages } from '../helpers/sqlite-damage.js';

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
    await waitFor(() => store.health().healthy, { timeoutMs: 10_000, intervalMs: 20, message: 'the store thread to come back' });
  }

  it('answers unavailable while its thread is gone and comes back with the data', async () => {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')), { restartDelayMs: 100 });
    await store.open();
    after(() => store.close());
    const first = await store.insertIncident(newIncident());

    await endThread(store);
    assert.equal(store.health().healthy, false);
    await assert.rejects(store.insertIncident(newIncident()), StoreUnavailableError);

    await untilHealthy(store);
    assert.equal((await store.getIncident(first.incident.id))?.number, first.incident.number);
    const next = await store.insertIncident(newIncident());
    assert.equal(next.created, true);
    assert.notEqual(next.incident.number, first.incident.number);
  });

  it('rejects the calls in flight when the thread dies; their retries store each event once', async () => {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')), { restartDelayMs: 100 });
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

describe('embedded store files of earlier versions', () => {
  it('a triage outbox keyed by incident id moves to the one keyed by number, states and attempts kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-store-'));
    // The file as the version before wrote it: the outbox keyed by the incident's id.
    const old = new Database(join(dir, 'tw-webhooks.sqlite'));
    old.exec(`${SCHEMA}
      CREATE TABLE triage_outbox (
        incident_id TEXT PRIMARY KEY REFERENCES incidents (id), state TEXT NOT NULL, next_attempt_at TEXT, attempts INTEGER NOT NULL, claimed_by TEXT
      );
      CREATE INDEX triage_outbox_due ON triage_outbox (state, next_attempt_at);`);
    const pending = { ...newIncident({ triagePlaybook: 'phishing' }), number: 'INC-2026-0001' };
    const dispatched = { ...newIncident({ triagePlaybook: 'phishing' }), number: 'INC-2026-0002' };
    dispatched.triage = { ...dispatched.triage, state: 'dispatched', attempts: 1, nextAttemptAt: null, dispatchedAt: '2026-03-01T10:00:01.000Z' };
    for (const incident of [pending, dispatched]) {
      old
        .prepare(`INSERT INTO incidents (id, number, source, dedupe_key, received_at, severity, status, doc) VALUES (?, ?, ?, ?, ?, ?, 'new', ?)`)
        .run(incident.id, incident.number, incident.source, incident.dedupeKey, incident.receivedAt, incident.severity, JSON.stringify(incident));
      old
        .prepare('INSERT INTO triage_outbox (incident_id, state, next_attempt_at, attempts) VALUES (?, ?, ?, ?)')
        .run(incident.id, incident.triage.state, incident.triage.nextAttemptAt, incident.triage.attempts);
    }
    old.prepare(`INSERT INTO counters (year, last) VALUES (2026, 2)`).run();
    old.close();

    const store = new EmbeddedStore(dir);
    await store.open();
    after(() => store.close());
    assert.equal(await store.triage.countPendingTriage(), 1);
    assert.deepEqual(
      (await store.triage.listTriage({ state: 'dispatched', limit: 10 })).map((incident) => incident.id),
      [dispatched.id],
    );
    const claimed = await store.triage.claimTriage('w1', new Date('2026-03-01T11:00:00.000Z'), 60_000);
    assert.equal(claimed?.id, pending.id);
    assert.equal(claimed.triage.attempts, 1);
    assert.equal(await store.triage.finishTriage({ id: pending.id, attempts: 1 }, { state: 'dispatched', at: '2026-03-01T11:00:01.000Z' }), true);
    assert.equal(await store.triage.countPendingTriage(), 0);
    // New incidents join the same outbox, numbered on from the old counter.
    const next = await store.insertIncident(newIncident({ triagePlaybook: 'phishing' }));
    assert.equal(next.incident.number, 'INC-2026-0003');
    assert.deepEqual(
      (await store.triage.listTriage({ state: 'pending', limit: 10 })).map((incident) => incident.number),
      ['INC-2026-0003'],
    );
  });
});

describe('embedded store integrity', () => {
  /** A store of a few hundred incidents with 1 KB bodies: pages of real rows to damage. */
  async function filledStore(options: ConstructorParameters<typeof EmbeddedStore>[1] = {}): Promise<{ store: EmbeddedStore; dir: string; ids: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'tw-store-'));
    const store = new EmbeddedStore(dir, options);
    await store.open();
    after(() => store.close());
    const raw = JSON.stringify({ padding: 'x'.repeat(1000) });
    const stored = await Promise.all(Array.from({ length: 300 }, () => store.insertIncident(newIncident({ raw }))));
    return { store, dir, ids: stored.map((result) => result.incident.id) };
  }

  it('refuses to open a file whose start-up check finds damage, naming the file, the damage and the recovery', async () => {
    const { store, dir } = await filledStore();
    await store.close();
    const file = join(dir, 'tw-webhooks.sqlite');
    const { pages, pageSize } = dataPagesInTheMiddle(file, 'incidents', 2);
    overwritePages(file, pageSize, pages);

    const error = await new EmbeddedStore(dir).open().then(
      () => assert.fail('opened a damaged file'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof StoreDamagedError, String(error));
    assert.equal(error.damage.file, file);
    assert.ok(error.damage.problems.length >= 1 && error.damage.problems.length <= 5, error.damage.problems.join('\n'));
    assert.ok(
      error.damage.problems.some((problem) => pages.some((page) => problem.includes(`page ${page}`))),
      `the damaged pages ${pages.join(', ')} are named: ${error.damage.problems.join('\n')}`,
    );
    assert.match(error.damage.recovery, /backup/);
    assert.match(error.damage.recovery, new RegExp(`sqlite3 ${file} "\\.recover"`));
  });

  it('names the delivery log file when that one is damaged (a header that is not SQLite)', async () => {
    const { store, dir } = await filledStore();
    await store.close();
    const file = join(dir, 'deliveries.sqlite');
    overwritePages(file, 4096, [1]);
    const error = await new EmbeddedStore(dir).open().then(
      () => assert.fail('opened a damaged file'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof StoreDamagedError, String(error));
    assert.equal(error.damage.file, file);
    assert.match(error.damage.problems[0]!, /not a database \(SQLITE_NOTADB\)/);
    assert.match(error.damage.recovery, /delivery log: move it aside/);
  });

  it('a fault met while running: unhealthy with the reason, reported once, nothing served but the integrity check', async () => {
    const faults: [StoreFault, boolean][] = [];
    const { store, dir, ids } = await filledStore({ onFault: (fault, turnedUnhealthy) => faults.push([fault, turnedUnhealthy]) });
    // The id index: every insert writes to it.
    damageRootPagesUnder(join(dir, 'tw-webhooks.sqlite'), ['sqlite_autoindex_incidents_1']);

    await assert.rejects(store.insertIncident(newIncident()), StoreUnavailableError);
    const health = store.health();
    assert.equal(health.healthy, false);
    assert.match(health.healthy ? '' : health.reason, /^tw-webhooks\.sqlite: database disk image is malformed \(SQLITE_CORRUPT\)$/);
    // Reads too: what the file answers is no longer trusted.
    await assert.rejects(store.getIncident(ids[0]!), StoreUnavailableError);
    await assert.rejects(store.inbox.claimEntry('w', new Date(), 1000), StoreUnavailableError);
    await assert.rejects(store.deliveries.appendDeliveries([]), StoreUnavailableError);

    const report = await store.checkIntegrity();
    assert.equal(report.ok, false);
    const incidentsFile = report.parts.find((part) => part.name === 'tw-webhooks.sqlite');
    assert.equal(incidentsFile?.ok, false);
    assert.ok(incidentsFile.problems.length > 0);
    assert.deepEqual(
      report.parts.find((part) => part.name === 'deliveries.sqlite'),
      { name: 'deliveries.sqlite', ok: true, problems: [] },
    );

    assert.deepEqual(faults, [[{ kind: 'corrupt', reason: health.healthy ? '' : health.reason }, true]], 'reported once');
  });

  it('a restarted thread whose reopening check finds damage serves nothing and is not restarted again', async () => {
    const faults: StoreFault[] = [];
    const { store, dir } = await filledStore({ restartDelayMs: 100, onFault: (fault) => faults.push(fault) });
    damageRootPagesUnder(join(dir, 'tw-webhooks.sqlite'), ['incidents']);
    await (store as unknown as { thread: Worker }).thread.terminate();

    await waitFor(() => faults.length > 0, { timeoutMs: 10_000, message: 'the reopened files to be checked' });
    assert.equal(faults[0]!.kind, 'corrupt');
    assert.match(faults[0]!.reason, /^tw-webhooks\.sqlite is damaged: /);
    assert.deepEqual(store.health(), { healthy: false, reason: faults[0]!.reason });
    await assert.rejects(store.insertIncident(newIncident()), StoreUnavailableError);
    // A restart would check and report the file again: five restart delays pass without one.
    await new Promise((waited) => setTimeout(waited, 500));
    assert.equal(faults.length, 1);
  });
});
