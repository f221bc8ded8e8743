import type { Collection } from 'mongodb';
import type { Claim } from '../../incidents/ports.js';
import type { Job, JobCheckpoint, JobKind, JobOutcome, JobStore, NewJob, StartedJob } from '../../jobs/job.js';
import type { RunOperation } from './run.js';
import { CandidateBuffer, claimFirst, type ClaimTicket } from './claims.js';
import { isDuplicateKey } from './errors.js';

export type JobDocument = Omit<Job, 'id'> & { _id: string };

/** "The running job of this kind is `jobId`": a unique `_id` insert, atomic on every MongoDB-wire server. */
export interface JobSlotDocument {
  _id: JobKind;
  jobId: string;
}

/**
 * Jobs in `jobs`, and the one running job of each kind as a slot in `job_slots`. A job is written
 * before it takes its slot, so a slot always names a job that exists; a slot whose job ended (its
 * release was lost) is cleared by the next start. Stale jobs are claimed with tickets, like queue
 * entries (see claims.ts).
 */
export class MongoJobs implements JobStore {
  private readonly candidates = new CandidateBuffer<JobDocument>();

  constructor(
    private readonly jobs: Collection<JobDocument>,
    private readonly slots: Collection<JobSlotDocument>,
    private readonly tickets: Collection<ClaimTicket>,
    private readonly run: RunOperation,
  ) {}

  startJob(job: NewJob): Promise<StartedJob> {
    return this.run(async () => {
      const stored: Job = { ...job, state: 'running', report: null, cursor: null, error: null, attempts: 1, updatedAt: job.createdAt, finishedAt: null };
      await this.jobs.insertOne(toDocument(stored));
      const running = await this.holdSlot(stored);
      if (!running) return { started: true, job: stored };
      await this.jobs.deleteOne({ _id: stored.id });
      return { started: false, running };
    });
  }

  getJob(id: string): Promise<Job | undefined> {
    return this.run(async () => {
      const document = await this.jobs.findOne({ _id: id });
      return document ? fromDocument(document) : undefined;
    });
  }

  listJobs(query: { kind?: JobKind; limit: number }): Promise<Job[]> {
    return this.run(async () => {
      const documents = await this.jobs
        .find(query.kind === undefined ? {} : { kind: query.kind })
        .sort({ createdAt: -1, _id: -1 })
        .limit(query.limit)
        .toArray();
      return documents.map(fromDocument);
    });
  }

  checkpointJob(claim: Claim, checkpoint: JobCheckpoint): Promise<boolean> {
    return this.run(async () => {
      const { progress, report, cursor, leaseUntil, at } = checkpoint;
      const result = await this.jobs.updateOne(
        { _id: claim.id, attempts: claim.attempts, state: 'running' },
        { $set: { progress, report, cursor, leaseUntil, updatedAt: at } },
      );
      return result.matchedCount === 1;
    });
  }

  finishJob(claim: Claim, outcome: JobOutcome, at: string): Promise<boolean> {
    return this.run(async () => {
      const ended = outcome.state === 'done' ? { state: 'done' as const, report: outcome.report } : { state: 'failed' as const, error: outcome.error };
      const result = await this.jobs.updateOne(
        { _id: claim.id, attempts: claim.attempts, state: 'running' },
        { $set: { ...ended, ...(outcome.progress && { progress: outcome.progress }), owner: null, leaseUntil: null, updatedAt: at, finishedAt: at } },
      );
      const job = await this.jobs.findOne({ _id: claim.id });
      if (job) await this.slots.deleteOne({ _id: job.kind, jobId: claim.id });
      return result.matchedCount === 1;
    });
  }

  claimStaleJob(worker: string, now: Date, leaseMs: number): Promise<Job | undefined> {
    const until = new Date(now.getTime() + leaseMs);
    return this.run(async () => {
      const claimed = await claimFirst<JobDocument>({
        tickets: this.tickets,
        buffer: this.candidates,
        kind: 'job',
        candidates: (limit, except) =>
          this.jobs
            .find({ _id: { $nin: [...except] }, state: 'running', leaseUntil: { $lte: now.toISOString() } })
            .sort({ createdAt: 1 })
            .limit(limit)
            .toArray(),
        attempts: (candidate) => candidate.attempts,
        apply: async (candidate, attempts) => {
          const claim = { attempts, owner: worker, leaseUntil: until.toISOString(), updatedAt: now.toISOString() };
          const result = await this.jobs.updateOne({ _id: candidate._id, attempts: candidate.attempts, state: 'running' }, { $set: claim });
          return result.matchedCount === 1 ? { ...candidate, ...claim } : undefined;
        },
        worker,
        now,
        until,
      });
      if (!claimed) return undefined;
      const job = fromDocument(claimed);
      // A job whose starter died before it took its slot never ran: it is not resumed beside the slot's holder.
      if (await this.holdSlot(job)) {
        await this.finishJob(
          { id: job.id, attempts: job.attempts },
          { state: 'failed', error: 'never started: another job of its kind holds the slot' },
          now.toISOString(),
        );
        return undefined;
      }
      return job;
    });
  }

  /**
   * Gives `job` its kind's slot, or returns the other running job that holds it. A slot left by a
   * job that ended (its release was lost) is cleared and taken.
   */
  private async holdSlot(job: Job): Promise<Job | undefined> {
    for (;;) {
      try {
        await this.slots.insertOne({ _id: job.kind, jobId: job.id });
        return undefined;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const slot = await this.slots.findOne({ _id: job.kind });
      if (!slot || slot.jobId === job.id) return undefined;
      const holder = await this.jobs.findOne({ _id: slot.jobId });
      if (holder?.state === 'running') return fromDocument(holder);
      await this.slots.deleteOne({ _id: job.kind, jobId: slot.jobId });
    }
  }
}

function toDocument(job: Job): JobDocument {
  const { id, ...rest } = job;
  return { _id: id, ...rest };
}

function fromDocument(document: JobDocument): Job {
  const { _id, ...rest } = document;
  return { id: _id, ...rest };
}
