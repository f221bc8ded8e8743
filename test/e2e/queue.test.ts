/**
 * Queued processing (`202 queued`): async sources go 202 → incident through the inbox workers, on
 * both stores; poison entries end dead; a worker that dies holding entries loses none of them.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { freshMongoUri, storeEnvs } from '../helpers/mongo-database.js';
import { deliver, genericAlert, getAnonymous, getJson, waitFor, type Reply } from '../helpers/api-client.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import type { NewQueueEntry } from '../../src/incidents/ports.js';
import type { Store } from '../../src/store/store.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = `
sources:
  edr-async:
    secret: "async-secret"
    processing: async
`;
const QUICK_RETRIES = { TW_QUEUE_POLL_MS: '100', TW_QUEUE_RETRY_BASE_MS: '100', TW_QUEUE_LEASE_MS: '2000' };

const services: RunningService[] = [];
async function start(env: Record<string, string>): Promise<RunningService> {
  const service = await startService({ config: CONFIG, env: { ...QUICK_RETRIES, ...env } });
  services.push(service);
  return service;
}
after(async () => {
  await Promise.all(services.map((service) => service.kill9()));
});

function assertQueued(reply: Reply): string {
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  assert.equal(reply.body.status, 'queued');
  assert.equal(reply.body.message, 'Event queued for processing');
  assert.match(reply.body.queue_id, /^queue-[0-9a-f-]{36}$/);
  return reply.body.queue_id as string;
}

async function settled(url: string, queueId: string): Promise<any> {
  let entry: any;
  // Generous: on a loaded 2-core machine FerretDB works through dozens of entries slowly.
  return waitFor(
    async () => {
      entry = (await getJson(url, `/api/queue/${queueId}`)).body;
      return entry.status === 'done' || entry.status === 'dead' ? entry : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, message: `queue entry ${queueId} to settle` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(entry)}`);
  });
}

for (const [kind, env] of storeEnvs('tw_queue')) {
  describe(`queued processing (${kind} store)`, () => {
    it('an async source answers 202 queued and the queued delivery becomes an incident', async () => {
      const service = await start(env());
      const body = genericAlert(randomUUID());
      const queueId = assertQueued(await deliver(service.url, 'edr-async', 'async-secret', body));
      const entry = await settled(service.url, queueId);
      assert.equal(entry.status, 'done', JSON.stringify(entry));
      assert.equal(entry.attempts, 1);
      assert.match(entry.incident_number, /^INC-\d{4}-\d{4,}$/);
      const incident = await getJson(service.url, `/api/incidents/${entry.incident_id}`);
      assert.equal(incident.status, 200);
      assert.equal(incident.body.source, 'edr-async');
      assert.equal(incident.body.raw, body);

      const again = await settled(service.url, assertQueued(await deliver(service.url, 'edr-async', 'async-secret', body)));
      assert.equal(again.incident_id, entry.incident_id, 'a redelivery is the same incident');
    });

    it('a payload that can never become an incident ends dead with its error', async () => {
      const service = await start(env());
      const queueId = assertQueued(await deliver(service.url, 'edr-async', 'async-secret', '{"not": "an alert"'));
      const entry = await settled(service.url, queueId);
      assert.equal(entry.status, 'dead');
      assert.equal(entry.incident_id, null);
      assert.match(entry.last_error, /^invalid_payload: /);
    });

    it('GET /api/queue/:id needs a token and answers 404 for an unknown id', async () => {
      const service = await start(env());
      assert.equal((await getAnonymous(service.url, '/api/queue/queue-x')).status, 401);
      const missing = await getJson(service.url, `/api/queue/queue-${randomUUID()}`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'not_found');
    });
  });
}

const newEntry = (source: string): NewQueueEntry => ({
  id: `queue-${randomUUID()}`,
  source,
  body: Buffer.from(genericAlert(randomUUID())),
  headers: [],
  receivedAt: new Date().toISOString(),
});

/**
 * Puts entries into a store before the service starts, as an earlier replica would have left
 * them; returns the service env that opens the same store.
 */
async function leftBehind(kind: string, fill: (store: Store) => Promise<void>): Promise<{ env: Record<string, string>; dataDir?: string }> {
  if (kind === 'MongoDB') {
    const uri = freshMongoUri('tw_queue_left');
    const store = new MongoStore({ uri, writeConcern: 'majority', maxPoolSize: 2, deliveryRetentionSeconds: 3600 });
    await store.open();
    await fill(store).finally(() => store.close());
    return { env: { MONGODB_URI: uri } };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tw-queue-left-'));
  const store = new EmbeddedStore(dataDir);
  await store.open();
  await fill(store).finally(() => store.close());
  return { env: {}, dataDir };
}

for (const [kind] of storeEnvs('tw_queue')) {
  describe(`queue entries that cannot be processed (${kind} store)`, () => {
    it('an entry failing every attempt ends dead after TW_QUEUE_MAX_ATTEMPTS, with its last error', async () => {
      // Its source is not registered: a retryable failure (the source may come back), every time.
      const entry = newEntry('gone-source');
      const { env, dataDir } = await leftBehind(kind, (store) => store.inbox.enqueue(entry));
      const service = await startService({ config: CONFIG, env: { ...QUICK_RETRIES, TW_QUEUE_MAX_ATTEMPTS: '3', ...env }, dataDir });
      services.push(service);
      const dead = await settled(service.url, entry.id);
      assert.equal(dead.status, 'dead');
      assert.equal(dead.attempts, 3);
      assert.equal(dead.incident_id, null);
      assert.match(dead.last_error, /^unknown_source: source 'gone-source' is not registered/);
    });
  });
}

describe('crashed workers (MongoDB store)', () => {
  it('an entry leased by a worker that never finishes is taken over when the lease expires', async () => {
    const entry = newEntry('edr-async');
    let leaseEnds = 0;
    const { env } = await leftBehind('MongoDB', async (store) => {
      await store.inbox.enqueue(entry);
      const held = await store.inbox.claimEntry('crashed-worker', new Date(), 1500);
      assert.equal(held?.id, entry.id);
      assert.equal(held.claimedBy, 'crashed-worker');
      leaseEnds = Date.parse(held.dueAt);
    });
    // Checked in the store above, not through the service: the service may start after the lease ended.
    const service = await start(env);
    const done = await settled(service.url, entry.id);
    assert.equal(done.status, 'done');
    assert.equal(done.attempts, 2, 'the crashed attempt counts');
    assert.ok(Date.parse(done.updated_at) >= leaseEnds, `finished at ${done.updated_at}, not before the lease ended at ${new Date(leaseEnds).toISOString()}`);
  });

  it('kill -9 of a replica with queued entries in flight loses none of them', async () => {
    const uri = freshMongoUri('tw_queue_kill');
    const first = await start({ MONGODB_URI: uri });
    const alerts = Array.from({ length: 40 }, () => randomUUID());
    const replies = await Promise.all(alerts.map((alertId) => deliver(first.url, 'edr-async', 'async-secret', genericAlert(alertId))));
    const queueIds = replies.map(assertQueued);
    await first.kill9();

    const second = await start({ MONGODB_URI: uri });
    const entries = await Promise.all(queueIds.map((queueId) => settled(second.url, queueId)));
    assert.deepEqual(new Set(entries.map((entry) => entry.status)), new Set(['done']));
    assert.equal(new Set(entries.map((entry) => entry.incident_id)).size, alerts.length);
  });
});

describe('inline budget (MongoDB store)', () => {
  it('sync deliveries slower than TW_INLINE_BUDGET_MS are queued, and every alert is stored exactly once', async () => {
    const service = await startService({
      config: 'sources:\n  edr:\n    secret: "edr-secret"\n',
      env: { ...QUICK_RETRIES, MONGODB_URI: freshMongoUri('tw_budget'), TW_INLINE_BUDGET_MS: '1' },
    });
    services.push(service);
    const alerts = Array.from({ length: 20 }, () => randomUUID());
    const replies = await Promise.all(alerts.flatMap((alertId) => [alertId, alertId].map((id) => deliver(service.url, 'edr', 'edr-secret', genericAlert(id)))));
    assert.ok(
      replies.some((reply) => reply.status === 202),
      'a 1 ms budget queues some deliveries',
    );
    for (const [index, alertId] of alerts.entries()) {
      const ids = new Set<string>();
      for (const reply of replies.slice(index * 2, index * 2 + 2)) {
        assert.ok([200, 201, 202].includes(reply.status), `${alertId}: ${reply.status}`);
        ids.add(reply.status === 202 ? (await settled(service.url, reply.body.queue_id)).incident_id : reply.body.incident_id);
      }
      assert.equal(ids.size, 1, `alert ${alertId} became one incident`);
    }
    const listed = await getJson(service.url, '/api/incidents?limit=500');
    assert.equal(listed.body.items.length, alerts.length);
  });
});
