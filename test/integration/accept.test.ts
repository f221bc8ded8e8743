/** The route's accept step: inline within the budget, durably queued beyond it or for async sources. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { createAccept } from '../../src/ingest/accept.js';
import type { Ingest, WebhookEvent } from '../../src/ingest/ingest.js';
import { ok } from '../../src/core/result.js';
import { backoffMs } from '../../src/workers/backoff.js';
import { testSource } from '../helpers/source.js';
import { newIncident } from '../helpers/store-contract.js';
import { waitFor } from '../helpers/wait.js';

const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-accept-')));
before(() => store.open());
after(() => store.close());

const event: WebhookEvent = {
  rawBody: Buffer.from('{"event_type":"x"}'),
  headers: { 'webhook-id': 'msg-7', 'x-webhook-signature': 'sha256=00', authorization: 'Bearer secret' },
  receivedAt: new Date('2026-02-02T12:00:00.000Z'),
};

/** An ingest that stores for real, after `delayMs`. */
function slowIngest(delayMs: number): Ingest {
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const result = await store.insertIncident(newIncident({ dedupeKey: 'hdr:msg-7' }));
    return ok({ filtered: false, created: result.created, incident: result.incident, filterErrors: [] });
  };
}

describe('accepting a verified delivery', () => {
  it('answers inline when processing fits the budget', async () => {
    const accept = createAccept({ ingest: slowIngest(0), inbox: store.inbox, inlineBudgetMs: 1000 });
    const result = await accept(testSource({ name: 'edr' }), event);
    assert.ok(result.ok && !result.value.queued && !result.value.filtered && result.value.created);
  });

  it('queues a slow delivery durably, keeping only the signed event id header, while the inline attempt completes', async () => {
    const queued: string[] = [];
    const accept = createAccept({ ingest: slowIngest(200), inbox: store.inbox, inlineBudgetMs: 20, onQueued: (reason) => queued.push(reason) });
    const result = await accept(testSource({ name: 'edr', verification: 'standard-webhooks' }), event);
    assert.ok(result.ok && result.value.queued);
    assert.equal(result.value.reason, 'budget');
    assert.deepEqual(queued, ['budget']);
    const entry = await store.inbox.getEntry(result.value.queueId);
    assert.equal(entry?.status, 'queued');
    assert.deepEqual(entry.headers, [['webhook-id', 'msg-7']]);
    assert.deepEqual(entry.body, event.rawBody);
    assert.equal(entry.receivedAt, event.receivedAt.toISOString());
  });

  it('records the inline attempt that outlived the budget on its entry, so no worker processes the delivery again', async () => {
    const accept = createAccept({ ingest: slowIngest(100), inbox: store.inbox, inlineBudgetMs: 10, now: () => new Date('2026-02-02T12:00:01.000Z') });
    const result = await accept(testSource({ name: 'edr' }), event);
    assert.ok(result.ok && result.value.queued);
    const { queueId } = result.value;
    assert.equal((await store.inbox.getEntry(queueId))?.status, 'queued', 'answered before the inline attempt ended');
    const entry = await waitFor(
      async () => {
        const current = await store.inbox.getEntry(queueId);
        return current?.status === 'done' && current;
      },
      { message: 'the entry to end done' },
    );
    assert.equal(entry.attempts, 0, 'never claimed');
    assert.equal(entry.dueAt, '2026-02-02T12:00:01.000Z');
    const incident = await store.getIncident(entry.incidentId!);
    assert.equal(incident?.dedupeKey, 'hdr:msg-7');
    assert.equal(entry.incidentNumber, incident.number);
  });

  it("keeps no id header for a profile that signs none (the header could be anyone's)", async () => {
    const accept = createAccept({ ingest: slowIngest(0), inbox: store.inbox, inlineBudgetMs: 0 });
    const result = await accept(testSource({ name: 'edr', processing: 'async' }), { ...event, headers: { ...event.headers, 'x-webhook-id': 'x-1' } });
    assert.ok(result.ok && result.value.queued);
    assert.deepEqual((await store.inbox.getEntry(result.value.queueId))?.headers, []);
  });

  it('queues an async source without processing it', async () => {
    let called = false;
    const accept = createAccept({
      ingest: async () => ((called = true), slowIngest(0)(testSource({ name: 'edr' }), event)),
      inbox: store.inbox,
      inlineBudgetMs: 0,
    });
    const result = await accept(testSource({ name: 'edr', processing: 'async' }), event);
    assert.ok(result.ok && result.value.queued && result.value.reason === 'async');
    assert.equal(called, false);
  });
});

describe('retry backoff', () => {
  it('doubles per attempt from the base, with 50–100 % jitter, up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => backoffMs(attempt, 100, 10_000, () => 1)),
      [100, 200, 400, 800],
    );
    assert.equal(
      backoffMs(3, 100, 10_000, () => 0),
      200,
    );
    assert.equal(
      backoffMs(30, 100, 10_000, () => 1),
      10_000,
    );
  });
});
