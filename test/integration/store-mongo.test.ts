/** The store and pipeline contracts against the real MongoDB-wire server of `npm run infra` (FerretDB). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { Store, StoreFault } from '../../src/store/store.js';
import { newIncident, storeContract } from '../helpers/store-contract.js';
import { pipelineContract } from '../helpers/pipeline-contract.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { DedicatedFerretdb } from '../helpers/ferretdb.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const uris = new WeakMap<Store, string>();

async function openMongo(uri: string): Promise<MongoStore> {
  const store = new MongoStore({ uri, writeConcern: 'majority', maxPoolSize: 20, deliveryRetentionSeconds: 3600 });
  await store.open();
  uris.set(store, uri);
  return store;
}

const factory = {
  openStore: () => openMongo(freshMongoUri()),
  reopen: (store: Store) => openMongo(uris.get(store)!),
};

storeContract('MongoDB', factory);
pipelineContract('MongoDB', factory);

describe('MongoDB claims', () => {
  it('an attempt whose claimer died between its ticket and its claim is skipped once the lease ended', async () => {
    const store = await openMongo(freshMongoUri());
    const tickets = new MongoClient(uris.get(store)!);
    try {
      const id = `queue-${randomUUID()}`;
      await store.inbox.enqueue({ id, source: 'edr', body: Buffer.from('{}'), headers: [], receivedAt: '2026-03-01T10:00:00.000Z' });
      // What a claimer leaves behind when killed right after winning attempt 1.
      await tickets
        .db()
        .collection<{ _id: string; worker: string; until: Date }>('claims')
        .insertOne({ _id: `inbox:${id}:1`, worker: 'dead', until: new Date('2026-03-01T10:00:30.000Z') });
      assert.equal(await store.inbox.claimEntry('w', new Date('2026-03-01T10:00:10.000Z'), 1000), undefined);
      const claimed = await store.inbox.claimEntry('w', new Date('2026-03-01T10:00:30.000Z'), 1000);
      assert.equal(claimed?.id, id);
      assert.equal(claimed.attempts, 2);
    } finally {
      await tickets.close();
      await store.close();
    }
  });

  it('pruning ended inbox entries takes their old tickets along, and only those', async () => {
    const store = await openMongo(freshMongoUri());
    const client = new MongoClient(uris.get(store)!);
    try {
      const claims = client.db().collection<{ _id: string; worker: string; until: Date }>('claims');
      const id = `queue-${randomUUID()}`;
      await store.inbox.enqueue({ id, source: 'edr', body: Buffer.from('{}'), headers: [], receivedAt: '2026-03-01T10:00:00.000Z' });
      await store.inbox.claimEntry('w', new Date('2026-03-01T10:00:00.000Z'), 1000);
      await store.inbox.finishEntry({ id, attempts: 1 }, { status: 'dead', error: 'invalid_payload' }, new Date('2026-03-01T10:00:01.000Z'));
      // A triage ticket as old, and an inbox ticket whose lease ends after the cutoff.
      await claims.insertMany([
        { _id: `triage:${randomUUID()}:1`, worker: 'w', until: new Date('2026-03-01T10:00:01.000Z') },
        { _id: `inbox:queue-${randomUUID()}:1`, worker: 'w', until: new Date('2026-03-02T00:00:00.000Z') },
      ]);

      assert.equal(await store.inbox.pruneEntries('2026-03-01T12:00:00.000Z'), 1);
      const left = (await claims.find().toArray()).map((ticket) => ticket._id.split(':')[0]).sort();
      assert.deepEqual(left, ['inbox', 'triage'], "the pruned entry's ticket is gone; the recent one and the triage one stay");
      assert.equal(await claims.countDocuments({ _id: `inbox:${id}:1` }), 0);
    } finally {
      await client.close();
      await store.close();
    }
  });
});

describe('MongoDB faults and integrity', () => {
  // FerretDB has no roles to take away: its storage failing (the collection's PostgreSQL pages
  // damaged, see e2e/mongo-faults.test.ts) is the non-transient error it really produces.
  it('a fault answers unavailable, keeps the store unhealthy and is reported; validate names the damaged collection', async () => {
    const db = await DedicatedFerretdb.start();
    const faults: [StoreFault, boolean][] = [];
    const store = new MongoStore({
      uri: db.uri('tw_damaged'),
      writeConcern: 'majority',
      maxPoolSize: 5,
      deliveryRetentionSeconds: 3600,
      onFault: (fault, turned) => faults.push([fault, turned]),
    });
    try {
      await store.open();
      for (let i = 0; i < 10; i++) await store.insertIncident(newIncident());
      await db.damageCollection('tw_damaged', 'incidents');

      // The first operations after PostgreSQL's restart may meet a connection it ended (an outage,
      // not a fault); then the damaged pages answer. Every one is refused as unavailable.
      for (let attempt = 0; attempt < 6 && faults.length < 2; attempt++) {
        await assert.rejects(store.insertIncident(newIncident()), StoreUnavailableError);
        await assert.rejects(store.getIncident('INC-2026-0001'), StoreUnavailableError);
      }
      const health = store.health();
      assert.equal(health.healthy, false);
      assert.match(health.healthy ? '' : health.reason, /^MongoDB: .*invalid page in block.* \(code 1\)$/);
      assert.ok(faults.length >= 2, `${faults.length} faults`);
      assert.deepEqual(
        faults.map(([fault, turned]) => [fault.kind, turned]),
        faults.map((_, index) => ['server_error', index === 0]),
        'reported each time, unhealthy once',
      );

      const report = await store.checkIntegrity();
      assert.equal(report.ok, false);
      const incidents = report.parts.find((part) => part.name === 'incidents');
      assert.equal(incidents?.ok, false);
      assert.match(incidents.problems[0]!, /invalid page in block/);
      assert.ok(
        report.parts.some((part) => part.name === 'counters' && part.ok),
        'the other collections are checked too',
      );
    } finally {
      await store.close();
      await db.stop();
    }
  });
});
