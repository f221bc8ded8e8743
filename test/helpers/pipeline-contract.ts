/**
 * The contract of the stores' pipeline parts — inbox (queued processing), triage outbox and
 * delivery log — run against every Store implementation, like store-contract.ts for incidents.
 * Times are passed in explicitly, so leases and retries are tested without sleeping.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DeliveryRecord, NewQueueEntry, QueueOutcome } from '../../src/incidents/ports.js';
import { jobClaim, type JobKind, type NewJob } from '../../src/jobs/job.js';
import { newIncident, storesClosedAfter, type StoreFactory } from './store-contract.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE_MS = 30_000;

function queueEntry(overrides: Partial<NewQueueEntry> = {}): NewQueueEntry {
  return {
    id: `queue-${randomUUID()}`,
    source: 'edr',
    body: Buffer.from('{"event_type":"x","data":{"k":"\u00fc \\u0000"}}\n'),
    headers: [['webhook-id', 'msg-1']],
    receivedAt: T0.toISOString(),
    ...overrides,
  };
}

function newJob(kind: JobKind, owner: string, createdAt: Date, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: `job-${randomUUID()}`,
    kind,
    params: { source: 'edr', dryRun: false },
    progress: { done: 0, total: null, unit: 'incidents' },
    owner,
    leaseUntil: new Date(createdAt.getTime() + LEASE_MS).toISOString(),
    createdAt: createdAt.toISOString(),
    ...overrides,
  };
}

function delivery(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    at: T0.toISOString(),
    source: 'edr',
    status: 201,
    code: null,
    latencyMs: 1.5,
    incidentId: randomUUID(),
    incidentNumber: 'INC-2026-0042',
    queueId: null,
    remoteAddress: '127.0.0.1',
    ...overrides,
  };
}

export function pipelineContract(name: string, factory: Pick<StoreFactory, 'openStore'>): void {
  describe(`pipeline contract: ${name}`, () => {
    const { open } = storesClosedAfter(factory);

    describe('inbox', () => {
      it('keeps a queued entry byte-exact with its idempotency headers', async () => {
        const store = await open();
        const entry = queueEntry();
        await store.inbox.enqueue(entry);
        const stored = await store.inbox.getEntry(entry.id);
        assert.ok(stored);
        assert.deepEqual(stored.body, entry.body);
        assert.deepEqual(stored.headers, entry.headers);
        assert.equal(stored.status, 'queued');
        assert.equal(stored.attempts, 0);
        assert.equal(await store.inbox.getEntry(`queue-${randomUUID()}`), undefined);
        assert.equal(await store.inbox.countOpenEntries(), 1);
      });

      it('leases the oldest due entry to one worker, and to another once the lease expired', async () => {
        const store = await open();
        const older = queueEntry({ receivedAt: at(-1000).toISOString() });
        await store.inbox.enqueue(queueEntry());
        await store.inbox.enqueue(older);
        const claimed = await store.inbox.claimEntry('worker-a', T0, LEASE_MS);
        assert.equal(claimed?.id, older.id);
        assert.equal(claimed.status, 'processing');
        assert.equal(claimed.attempts, 1);
        assert.equal(claimed.claimedBy, 'worker-a');
        assert.equal(claimed.dueAt, at(LEASE_MS).toISOString());
        const second = await store.inbox.claimEntry('worker-b', at(1), LEASE_MS);
        assert.notEqual(second?.id, older.id);
        assert.equal(await store.inbox.claimEntry('worker-b', at(1), LEASE_MS), undefined);

        const taken = await store.inbox.claimEntry('worker-b', at(LEASE_MS), LEASE_MS);
        assert.equal(taken?.id, older.id);
        assert.equal(taken.attempts, 2);
        assert.equal(await store.inbox.finishEntry({ id: older.id, attempts: 1 }, { status: 'dead', error: 'late' }, T0), false);
        const done = { status: 'done', incidentId: randomUUID(), incidentNumber: 'INC-2026-0001' } as const;
        assert.equal(await store.inbox.finishEntry({ id: older.id, attempts: 2 }, done, at(LEASE_MS + 1)), true);
        const finished = await store.inbox.getEntry(older.id);
        assert.equal(finished?.status, 'done');
        assert.equal(finished.incidentId, done.incidentId);
        assert.equal(finished.incidentNumber, 'INC-2026-0001');
        assert.equal(finished.claimedBy, null);
        assert.equal(await store.inbox.claimEntry('worker-c', at(10 * LEASE_MS), LEASE_MS).then((e) => e?.id === older.id), false);
      });

      it('retries an entry no earlier than its due time and keeps a dead one with its error', async () => {
        const store = await open();
        const entry = queueEntry();
        await store.inbox.enqueue(entry);
        await store.inbox.claimEntry('w', T0, LEASE_MS);
        await store.inbox.finishEntry({ id: entry.id, attempts: 1 }, { status: 'queued', error: 'store down', dueAt: at(5000).toISOString() }, T0);
        assert.equal(await store.inbox.claimEntry('w', at(4999), LEASE_MS), undefined);
        const retry = await store.inbox.claimEntry('w', at(5000), LEASE_MS);
        assert.equal(retry?.attempts, 2);
        assert.equal(retry.lastError, 'store down');
        await store.inbox.finishEntry({ id: entry.id, attempts: 2 }, { status: 'dead', error: 'invalid_payload: not JSON' }, at(5001));
        const dead = await store.inbox.getEntry(entry.id);
        assert.equal(dead?.status, 'dead');
        assert.equal(dead.lastError, 'invalid_payload: not JSON');
        assert.equal(await store.inbox.claimEntry('w', at(LEASE_MS * 100), LEASE_MS), undefined);
        assert.equal(await store.inbox.countOpenEntries(), 0);
      });

      it('records an inline attempt on the entry it outlived (attempt 0) until a worker claims it', async () => {
        const store = await open();
        const [settled, claimedFirst] = [queueEntry({ receivedAt: at(-2).toISOString() }), queueEntry({ receivedAt: at(-1).toISOString() })];
        for (const entry of [settled, claimedFirst]) await store.inbox.enqueue(entry);
        const done = { status: 'done', incidentId: randomUUID(), incidentNumber: 'INC-2026-0007' } as const;
        assert.equal(await store.inbox.finishEntry({ id: settled.id, attempts: 0 }, done, at(5)), true);
        const ended = await store.inbox.getEntry(settled.id);
        assert.deepEqual(
          [ended?.status, ended?.attempts, ended?.incidentId, ended?.incidentNumber, ended?.dueAt],
          ['done', 0, done.incidentId, 'INC-2026-0007', at(5).toISOString()],
        );
        assert.equal(await store.inbox.finishEntry({ id: settled.id, attempts: 0 }, done, at(6)), false, 'an ended entry is not ended again');

        assert.equal((await store.inbox.claimEntry('worker', at(10), LEASE_MS))?.id, claimedFirst.id, 'the settled entry is not claimed');
        assert.equal(await store.inbox.finishEntry({ id: claimedFirst.id, attempts: 0 }, done, at(11)), false, 'the worker holds it');
        assert.equal((await store.inbox.getEntry(claimedFirst.id))?.status, 'processing');
        assert.equal(await store.inbox.countOpenEntries(), 1);
      });

      it('prunes entries that ended before the cutoff, never open ones', async () => {
        const store = await open();
        const [done, dead, endedLater, leased, queued] = Array.from({ length: 5 }, (_, i) => queueEntry({ receivedAt: at(i).toISOString() }));
        for (const entry of [done!, dead!, endedLater!, leased!, queued!]) await store.inbox.enqueue(entry);
        const finish = async (entry: NewQueueEntry, outcome: QueueOutcome, endedAt: Date) => {
          const claimed = await store.inbox.claimEntry('w', at(10), LEASE_MS);
          assert.equal(claimed?.id, entry.id);
          assert.equal(await store.inbox.finishEntry({ id: entry.id, attempts: 1 }, outcome, endedAt), true);
        };
        await finish(done!, { status: 'done', incidentId: randomUUID(), incidentNumber: 'INC-2026-0001' }, at(1000));
        await finish(dead!, { status: 'dead', error: 'invalid_payload: not JSON' }, at(1000));
        await finish(endedLater!, { status: 'done', incidentId: randomUUID(), incidentNumber: 'INC-2026-0002' }, at(3000));
        assert.equal((await store.inbox.claimEntry('w', at(10), LEASE_MS))?.id, leased!.id);

        assert.equal(await store.inbox.pruneEntries(at(2000).toISOString()), 2);
        assert.equal(await store.inbox.getEntry(done!.id), undefined);
        assert.equal(await store.inbox.getEntry(dead!.id), undefined);
        assert.equal((await store.inbox.getEntry(endedLater!.id))?.status, 'done');
        // Long past every lease: still no open entry goes.
        assert.equal(await store.inbox.pruneEntries(at(100 * LEASE_MS).toISOString()), 1);
        assert.equal(await store.inbox.countOpenEntries(), 2);
        assert.equal((await store.inbox.getEntry(leased!.id))?.status, 'processing');
        assert.equal((await store.inbox.getEntry(queued!.id))?.status, 'queued');
      });

      it('gives each entry to exactly one of many concurrent claimers', async () => {
        const store = await open();
        for (let i = 0; i < 10; i++) await store.inbox.enqueue(queueEntry());
        const claims = await Promise.all(Array.from({ length: 25 }, (_, i) => store.inbox.claimEntry(`w${i}`, T0, LEASE_MS)));
        const ids = claims.filter((claim) => claim !== undefined).map((claim) => claim.id);
        assert.equal(ids.length, 10);
        assert.equal(new Set(ids).size, 10);
      });
    });

    describe('triage outbox', () => {
      it('leases a pending request, records the attempt, and hands an expired lease to another dispatcher', async () => {
        const store = await open();
        await store.insertIncident(newIncident());
        const { incident } = await store.insertIncident(newIncident({ triagePlaybook: 'malware_triage' }));
        const claimed = await store.triage.claimTriage('d1', T0, LEASE_MS);
        assert.equal(claimed?.id, incident.id);
        assert.equal(claimed.triage.attempts, 1);
        assert.equal(claimed.triage.nextAttemptAt, at(LEASE_MS).toISOString());
        assert.equal(await store.triage.claimTriage('d2', T0, LEASE_MS), undefined);
        const again = await store.triage.claimTriage('d2', at(LEASE_MS), LEASE_MS);
        assert.equal(again?.triage.attempts, 2);
        assert.equal(await store.triage.finishTriage({ id: incident.id, attempts: 1 }, { state: 'dispatched', at: T0.toISOString() }), false);
      });

      it('records retries, dispatch and failure on the incident and lists requests by state', async () => {
        const store = await open();
        const first = (await store.insertIncident(newIncident({ triagePlaybook: 'phishing_triage' }))).incident;
        const second = (await store.insertIncident(newIncident({ triagePlaybook: 'phishing_triage', receivedAt: at(1).toISOString() }))).incident;
        assert.deepEqual(
          (await store.triage.listTriage({ state: 'pending', limit: 10 })).map((i) => i.id),
          [first.id, second.id],
        );
        assert.equal(await store.triage.countPendingTriage(), 2);

        await store.triage.claimTriage('d', T0, LEASE_MS);
        const retryAt = at(2000).toISOString();
        assert.equal(
          await store.triage.finishTriage({ id: first.id, attempts: 1 }, { state: 'pending', error: 'runner answered 503', nextAttemptAt: retryAt }),
          true,
        );
        let stored = await store.getIncident(first.id);
        assert.deepEqual(stored?.triage, {
          state: 'pending',
          playbook: 'phishing_triage',
          attempts: 1,
          lastError: 'runner answered 503',
          nextAttemptAt: retryAt,
          dispatchedAt: null,
        });

        const retried = await store.triage.claimTriage('d', at(2000), LEASE_MS);
        assert.equal(retried?.id, second.id);
        const firstAgain = await store.triage.claimTriage('d', at(2000), LEASE_MS);
        assert.equal(firstAgain?.id, first.id);
        await store.triage.finishTriage({ id: first.id, attempts: 2 }, { state: 'dispatched', at: at(2100).toISOString() });
        await store.triage.finishTriage({ id: second.id, attempts: 1 }, { state: 'failed', error: 'runner answered 400' });
        stored = await store.getIncident(first.id);
        assert.equal(stored?.triage.state, 'dispatched');
        assert.equal(stored.triage.dispatchedAt, at(2100).toISOString());
        assert.equal(stored.triage.lastError, null);
        assert.equal((await store.getIncident(second.id))?.triage.state, 'failed');
        assert.deepEqual(
          (await store.triage.listTriage({ state: 'failed', limit: 10 })).map((i) => i.triage.lastError),
          ['runner answered 400'],
        );
        assert.equal((await store.triage.listTriage({ state: 'pending', limit: 10 })).length, 0);
        assert.equal(await store.triage.countPendingTriage(), 0);
        assert.equal(await store.triage.claimTriage('d', at(10 * LEASE_MS), LEASE_MS), undefined);
      });
    });

    describe('admin jobs', () => {
      it('runs one job of a kind at a time: a second start answers the running one, another kind starts', async () => {
        const store = await open();
        const first = newJob('renormalize', 'w1', T0);
        const started = await store.jobs.startJob(first);
        assert.ok(started.started);
        assert.equal(started.job.state, 'running');
        assert.equal(started.job.attempts, 1);
        assert.deepEqual(started.job.params, first.params);

        const second = await store.jobs.startJob(newJob('renormalize', 'w2', at(1)));
        assert.equal(second.started, false);
        assert.equal(second.started ? undefined : second.running.id, first.id);

        const backup = await store.jobs.startJob(newJob('backup', 'w2', at(2), { params: {}, progress: { done: 0, total: null, unit: 'pages' } }));
        assert.ok(backup.started);
        assert.deepEqual(
          (await store.jobs.listJobs({ limit: 10 })).map((job) => [job.kind, job.id]),
          [
            ['backup', backup.job.id],
            ['renormalize', first.id],
          ],
          'newest first; the refused start left nothing behind',
        );
        assert.deepEqual(
          (await store.jobs.listJobs({ kind: 'renormalize', limit: 10 })).map((job) => job.id),
          [first.id],
        );
        assert.equal(await store.jobs.getJob(`job-${randomUUID()}`), undefined);
      });

      it('keeps the holder’s checkpoints, refuses a wrong attempt, and frees the kind once finished', async () => {
        const store = await open();
        const started = await store.jobs.startJob(newJob('renormalize', 'w1', T0));
        assert.ok(started.started);
        const claim = jobClaim(started.job);
        const checkpoint = {
          progress: { done: 40, total: 100, unit: 'incidents' },
          report: { examined: 40, changed: 3, fields: { severity: 3 } },
          cursor: 'after-40',
          leaseUntil: at(LEASE_MS + 5000).toISOString(),
          at: at(5000).toISOString(),
        };
        assert.equal(await store.jobs.checkpointJob(claim, checkpoint), true);
        assert.equal(await store.jobs.checkpointJob({ id: claim.id, attempts: 2 }, checkpoint), false);
        const read = await store.jobs.getJob(claim.id);
        assert.deepEqual(
          [read?.progress, read?.report, read?.cursor, read?.leaseUntil],
          [checkpoint.progress, checkpoint.report, 'after-40', checkpoint.leaseUntil],
        );

        const finalProgress = { done: 100, total: 100, unit: 'incidents' };
        assert.equal(
          await store.jobs.finishJob(claim, { state: 'done', report: { examined: 100, changed: 7 }, progress: finalProgress }, at(9000).toISOString()),
          true,
        );
        assert.equal(await store.jobs.finishJob(claim, { state: 'failed', error: 'late' }, at(9001).toISOString()), false, 'finished once');
        const done = await store.jobs.getJob(claim.id);
        assert.deepEqual(
          [done?.state, done?.report, done?.progress, done?.finishedAt, done?.owner, done?.error],
          ['done', { examined: 100, changed: 7 }, finalProgress, at(9000).toISOString(), null, null],
        );
        assert.equal(await store.jobs.checkpointJob(claim, checkpoint), false, 'a finished job takes no more checkpoints');

        const next = await store.jobs.startJob(newJob('renormalize', 'w1', at(10_000)));
        assert.ok(next.started, 'the kind is free again');
        assert.equal(await store.jobs.finishJob(jobClaim(next.job), { state: 'failed', error: 'source gone' }, at(11_000).toISOString()), true);
        assert.equal((await store.jobs.getJob(next.job.id))?.error, 'source gone');
      });

      it('hands a job whose lease ended to another worker, once, and fences off the old holder', async () => {
        const store = await open();
        const started = await store.jobs.startJob(newJob('renormalize', 'w1', T0));
        assert.ok(started.started);
        assert.equal(await store.jobs.claimStaleJob('w2', at(LEASE_MS - 1), LEASE_MS), undefined, 'not before the lease ends');

        const claims = await Promise.all(['w2', 'w3', 'w4'].map((worker) => store.jobs.claimStaleJob(worker, at(LEASE_MS), LEASE_MS)));
        const won = claims.filter((job) => job !== undefined);
        assert.equal(won.length, 1, 'one taker');
        const taken = won[0]!;
        assert.deepEqual([taken.id, taken.attempts, taken.leaseUntil], [started.job.id, 2, at(2 * LEASE_MS).toISOString()]);
        assert.equal((await store.jobs.getJob(taken.id))?.owner, taken.owner);

        const lateCheckpoint = {
          progress: { done: 1, total: 1, unit: 'incidents' },
          report: null,
          cursor: null,
          leaseUntil: at(3 * LEASE_MS).toISOString(),
          at: at(LEASE_MS).toISOString(),
        };
        assert.equal(await store.jobs.checkpointJob(jobClaim(started.job), lateCheckpoint), false, 'the first holder lost it');
        assert.equal(await store.jobs.checkpointJob(jobClaim(taken), lateCheckpoint), true);
        assert.equal(await store.jobs.claimStaleJob('w5', at(2 * LEASE_MS), LEASE_MS), undefined, 'the checkpoint renewed the lease');
        assert.equal((await store.jobs.startJob(newJob('renormalize', 'w5', at(LEASE_MS)))).started, false, 'a taken-over job still holds its kind');
      });
    });

    describe('delivery log', () => {
      it('lists newest first, by source, and prunes by age', async () => {
        const store = await open();
        const records = [
          delivery({ at: at(0).toISOString() }),
          delivery({
            at: at(1000).toISOString(),
            source: '_unknown',
            status: 404,
            code: 'unknown_source',
            incidentId: null,
            remoteAddress: '::1',
            latencyMs: 0.25,
          }),
          delivery({ at: at(2000).toISOString(), status: 202, incidentId: null, queueId: 'queue-1' }),
        ];
        await store.deliveries.appendDeliveries(records);
        const all = await store.deliveries.listDeliveries({ limit: 10 });
        assert.equal(all.length, 3);
        // Read back field by field against what was appended (a store may add fields of its own, e.g. an id).
        for (const [index, input] of [...records].reverse().entries()) {
          for (const [key, value] of Object.entries(input)) assert.deepEqual(all[index]?.[key as keyof DeliveryRecord], value, `record ${index}: ${key}`);
        }
        assert.deepEqual(
          (await store.deliveries.listDeliveries({ source: 'edr', limit: 1 })).map((d) => d.status),
          [202],
        );
        assert.equal(await store.deliveries.pruneDeliveries(at(1500).toISOString()), 2);
        assert.equal((await store.deliveries.listDeliveries({ limit: 10 })).length, 1);
      });
    });
  });
}
