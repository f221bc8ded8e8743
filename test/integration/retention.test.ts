/**
 * Retention on each store, as every replica runs it (src/workers/incident-retention.ts): aged
 * incidents against a global setting and per-source overrides, pruned in bounded batches, raw
 * bodies before incidents, the one waiting for triage kept; and on the embedded store the file
 * giving the space back to the file system, also a file made before it vacuumed incrementally.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { Store } from '../../src/store/store.js';
import { IncidentRetention } from '../../src/workers/incident-retention.js';
import { retentionRules, type SourceRetention } from '../../src/incidents/retention.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { newIncident } from '../helpers/store-contract.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { sample } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const NOW = new Date('2026-03-31T12:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const RAW = JSON.stringify({ detail: 'r'.repeat(2000) });

const stores: Store[] = [];
after(async () => {
  for (const store of stores) await store.close().catch(() => undefined);
});

async function embedded(dir = mkdtempSync(join(tmpdir(), 'tw-retention-')), logger?: Logger): Promise<EmbeddedStore> {
  const store = new EmbeddedStore(dir, { logger });
  await store.open();
  stores.push(store);
  return store;
}

async function mongo(): Promise<MongoStore> {
  const store = new MongoStore({ uri: freshMongoUri('tw_retention'), writeConcern: 'majority', maxPoolSize: 10, deliveryRetentionSeconds: 3600 });
  await store.open();
  stores.push(store);
  return store;
}

const source = (name: string, retentionDays?: number, rawBodyRetentionDays?: number): SourceRetention => ({ name, retentionDays, rawBodyRetentionDays });

function retention(store: Store, sources: readonly SourceRetention[], options: { batchSize?: number; now?: Date } = {}) {
  const metrics = createMetrics();
  const worker = new IncidentRetention({
    store,
    sources: { list: () => sources },
    settings: { days: 10, rawBodyDays: 5 },
    metrics,
    logger: createLogger('silent'),
    pauseMs: 0,
    now: () => options.now ?? NOW,
    batchSize: options.batchSize,
  });
  return { worker, metrics };
}

describe('retention rules', () => {
  it('one rule for every source without an override, one per source with one; raw bodies at most as long as incidents', () => {
    const rules = retentionRules([source('edr'), source('siem', 0, 2), source('mail', 3), source('keep', 0, 0)], { days: 10, rawBodyDays: 5 }, NOW);
    assert.deepEqual(rules, [
      { scope: { exceptSources: ['siem', 'mail', 'keep'] }, incidentsBefore: daysAgo(10), rawBodiesBefore: daysAgo(5) },
      { scope: { source: 'siem' }, incidentsBefore: null, rawBodiesBefore: daysAgo(2) },
      // The global 5 days of raw bodies outlive this source's 3 days of incidents: they go with them.
      { scope: { source: 'mail' }, incidentsBefore: daysAgo(3), rawBodiesBefore: null },
    ]);
    assert.deepEqual(retentionRules([source('edr')], { days: 0, rawBodyDays: 0 }, NOW), [], 'nothing expires by default');
  });
});

for (const [kind, open] of [
  ['embedded', () => embedded()],
  ['MongoDB', mongo],
] as const) {
  describe(`retention on the ${kind} store`, () => {
    it('prunes aged incidents by the global setting and each source’s override, raw bodies first, the one waiting for triage kept', async () => {
      const store = await open();
      const incident = (name: string, days: number, overrides = {}) => ({
        name,
        input: newIncident({ source: name, receivedAt: daysAgo(days), raw: RAW, ...overrides }),
      });
      const cases = {
        edrOld: incident('edr', 20),
        edrWeek: incident('edr', 7),
        edrNew: incident('edr', 1),
        edrPending: incident('edr', 20, { triagePlaybook: 'malware_triage' }),
        siemAncient: incident('siem', 400),
        siemNew: incident('siem', 1),
        mailOld: incident('mail', 4),
        mailNew: incident('mail', 2),
        unregistered: incident('gone', 20),
      };
      for (const { input } of Object.values(cases)) await store.insertIncident(input);
      // Three more beyond the global window, so a round takes several batches of 2.
      for (let i = 0; i < 3; i++) await store.insertIncident(newIncident({ source: 'edr', receivedAt: daysAgo(30 + i), raw: RAW }));

      const { worker, metrics } = retention(store, [source('edr'), source('siem', 0, 2), source('mail', 3)], { batchSize: 2 });
      const round = await worker.runRound();

      const read = (name: keyof typeof cases) => store.getIncident(cases[name].input.id);
      assert.equal(await read('edrOld'), undefined, 'past the global 10 days');
      assert.equal(await read('unregistered'), undefined, 'a source no longer served follows the global setting');
      assert.equal(await read('mailOld'), undefined, "past mail's own 3 days");
      assert.deepEqual(
        [(await read('edrWeek'))?.raw, (await read('edrWeek'))?.title],
        [null, cases.edrWeek.input.title],
        'past the 5 days of raw bodies: the incident stays without it',
      );
      assert.equal((await read('siemAncient'))?.raw, null, 'siem keeps incidents for good, raw bodies 2 days');
      for (const kept of ['edrNew', 'siemNew', 'mailNew'] as const) assert.equal((await read(kept))?.raw, RAW, kept);
      const pending = await read('edrPending');
      assert.deepEqual([pending?.raw, pending?.triage.state], [RAW, 'pending'], 'waiting for triage: kept whole');

      assert.deepEqual([round.incidentsDeleted, round.rawBodiesDropped], [6, 2], 'the raw bodies of the incidents that stay only');
      const text = await metrics.registry.metrics();
      assert.equal(sample(text, 'tw_store_pruned_total', { store: store.kind, what: 'incidents' }), 6);
      assert.equal(sample(text, 'tw_store_pruned_total', { store: store.kind, what: 'raw_bodies' }), 2);
      const again = await worker.runRound();
      assert.deepEqual([again.incidentsDeleted, again.rawBodiesDropped], [0, 0], 'a second round finds nothing more');

      // Four days on, the incident whose raw body went first goes too.
      const later = retention(store, [source('edr'), source('siem', 0, 2), source('mail', 3)], { now: new Date(NOW.getTime() + 4 * 86_400_000) });
      const round3 = await later.worker.runRound();
      assert.equal(await read('edrWeek'), undefined);
      assert.equal((await read('edrNew'))?.raw, RAW, 'five days old now: its raw body stays');
      assert.equal(await read('mailNew'), undefined, 'mail: six days old, past its own 3');
      assert.equal((await read('siemNew'))?.raw, null, 'siem: past its 2 days of raw bodies');
      assert.deepEqual([round3.incidentsDeleted, round3.rawBodiesDropped], [2, 1]);
    });
  });
}

describe('the embedded store gives pruned space back to the file system', () => {
  it('shrinks its file as raw bodies and then incidents are pruned, a bounded step at a time', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-retention-'));
    let store = await embedded(dir);
    const raw = JSON.stringify({ detail: 'x'.repeat(8000) });
    for (let i = 0; i < 1500; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => store.insertIncident(newIncident({ receivedAt: daysAgo(i + j < 1000 ? 60 : 1), raw }))));
    }
    // The file's size with its write-ahead log checkpointed into it (closing does that), and its free pages.
    const settled = async () => {
      await store.close();
      const bytes = statSync(join(dir, 'tw-webhooks.sqlite')).size;
      store = await embedded(dir);
      const free = (await store.sizes()).find((part) => part.part === 'tw-webhooks.sqlite')!.freeBytes;
      return { bytes, free };
    };
    const worker = (now: Date) =>
      new IncidentRetention({
        store,
        sources: { list: () => [] },
        // Raw bodies after 30 days, incidents after 90.
        settings: { days: 90, rawBodyDays: 30 },
        metrics: createMetrics(),
        logger: createLogger('silent'),
        pauseMs: 0,
        now: () => now,
      });
    const full = await settled();

    // The thousand incidents of 60 days ago lose their bodies.
    const rawRound = await worker(NOW).runRound();
    assert.deepEqual([rawRound.rawBodiesDropped, rawRound.incidentsDeleted], [1000, 0]);
    const withoutBodies = await settled();
    assert.equal(withoutBodies.free, 0, 'every free page given back');
    // A thousand 8 KB bodies are 8 MB: at least 7 of them back to the file system.
    assert.ok(withoutBodies.bytes < full.bytes - 7e6, `raw bodies gone: ${full.bytes} → ${withoutBodies.bytes} bytes`);

    // The cost of one batch of deletions, measured on its own: what a request may wait behind.
    const batches: number[] = [];
    for (;;) {
      const started = performance.now();
      const deleted = await store.pruneIncidents({ scope: { exceptSources: [] }, before: daysAgo(30), limit: 100 });
      batches.push(performance.now() - started);
      if (deleted < 100) break;
    }
    const deletedOnly = await settled();
    assert.ok(deletedOnly.free! > 0, 'deleting alone keeps the pages in the file');
    assert.equal(deletedOnly.bytes, withoutBodies.bytes);
    const reclaimed = await worker(NOW).runRound();
    const after = await settled();
    assert.equal(after.free, 0);
    // What is left of a thousand incidents without bodies, over a kilobyte each.
    assert.ok(after.bytes < withoutBodies.bytes - 1e6, `incidents gone: ${withoutBodies.bytes} → ${after.bytes} bytes`);
    assert.equal((await store.listIncidents({ limit: 1000 })).items.length, 500);
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    t.diagnostic(
      `1,500 incidents with 8 KB bodies: ${mb(full.bytes)} MB; 1,000 raw bodies dropped and their pages given back in ${rawRound.ms} ms: ` +
        `${mb(withoutBodies.bytes)} MB; those 1,000 incidents deleted in batches of 100 taking ${batches.map((ms) => ms.toFixed(0)).join(', ')} ms, ` +
        `${reclaimed.pagesReclaimed} pages given back in ${reclaimed.ms} ms: ${mb(after.bytes)} MB`,
    );
  });

  it('rewrites a file made before it vacuumed incrementally once, at start-up, keeping every incident', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-retention-'));
    const first = await embedded(dir);
    const inputs = Array.from({ length: 50 }, () => newIncident({ raw: RAW }));
    for (const input of inputs) await first.insertIncident(input);
    await first.close();
    // What a data directory of an earlier version holds: the same file with auto_vacuum off.
    const file = join(dir, 'tw-webhooks.sqlite');
    const old = new Database(file);
    old.pragma('auto_vacuum = NONE');
    old.exec('VACUUM');
    assert.equal(old.pragma('auto_vacuum', { simple: true }), 0);
    old.close();

    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    const reopened = await embedded(dir, logger);
    const note = lines.find((line) => String(line.msg).startsWith('rewrote the incidents file once'));
    assert.ok(note, JSON.stringify(lines));
    for (const input of inputs) assert.equal((await reopened.getIncident(input.id))?.raw, RAW);
    await reopened.close();
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('auto_vacuum', { simple: true }), 2, 'incremental now');
    check.close();
    assert.ok(statSync(file).size > 0);
  });
});
