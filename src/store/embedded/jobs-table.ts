import type Database from 'better-sqlite3';
import type { Claim } from '../../incidents/ports.js';
import type { Job, JobCheckpoint, JobKind, JobOutcome, JobStore, NewJob, StartedJob } from '../../jobs/job.js';

/**
 * Admin jobs, each one JSON row; the columns are what claiming and listing select on. The partial
 * unique index is "one running job of a kind": a second start is a constraint error, answered with
 * the running one.
 */
export const JOBS_SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  lease_until TEXT,
  created_at TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_running ON jobs (kind) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC, id DESC);
`;

export class EmbeddedJobs implements JobStore {
  constructor(private readonly database: () => Database.Database) {}

  async startJob(job: NewJob): Promise<StartedJob> {
    const db = this.database();
    return db.transaction((): StartedJob => {
      const running = db.prepare(`SELECT doc FROM jobs WHERE kind = ? AND state = 'running'`).get(job.kind) as { doc: string } | undefined;
      if (running) return { started: false, running: JSON.parse(running.doc) as Job };
      const stored: Job = { ...job, state: 'running', report: null, cursor: null, error: null, attempts: 1, updatedAt: job.createdAt, finishedAt: null };
      db.prepare('INSERT INTO jobs (id, kind, state, attempts, lease_until, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        stored.id,
        stored.kind,
        stored.state,
        stored.attempts,
        stored.leaseUntil,
        stored.createdAt,
        JSON.stringify(stored),
      );
      return { started: true, job: stored };
    })();
  }

  async getJob(id: string): Promise<Job | undefined> {
    const row = this.database().prepare('SELECT doc FROM jobs WHERE id = ?').get(id) as { doc: string } | undefined;
    return row && (JSON.parse(row.doc) as Job);
  }

  async listJobs(query: { kind?: JobKind; limit: number }): Promise<Job[]> {
    const where = query.kind === undefined ? '' : 'WHERE kind = @kind';
    const rows = this.database()
      .prepare(`SELECT doc FROM jobs ${where} ORDER BY created_at DESC, id DESC LIMIT @limit`)
      .all(query.kind === undefined ? { limit: query.limit } : { kind: query.kind, limit: query.limit }) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as Job);
  }

  async checkpointJob(claim: Claim, checkpoint: JobCheckpoint): Promise<boolean> {
    return this.change(claim, (job) => ({
      ...job,
      progress: checkpoint.progress,
      report: checkpoint.report,
      cursor: checkpoint.cursor,
      leaseUntil: checkpoint.leaseUntil,
      updatedAt: checkpoint.at,
    }));
  }

  async finishJob(claim: Claim, outcome: JobOutcome, at: string): Promise<boolean> {
    return this.change(claim, (job) => ({
      ...job,
      ...(outcome.state === 'done' ? { state: 'done', report: outcome.report } : { state: 'failed', error: outcome.error }),
      progress: outcome.progress ?? job.progress,
      owner: null,
      leaseUntil: null,
      updatedAt: at,
      finishedAt: at,
    }));
  }

  async claimStaleJob(worker: string, now: Date, leaseMs: number): Promise<Job | undefined> {
    const db = this.database();
    const row = db.prepare(`SELECT doc FROM jobs WHERE state = 'running' AND lease_until <= ? ORDER BY created_at LIMIT 1`).get(now.toISOString()) as
      { doc: string } | undefined;
    if (!row) return undefined;
    const stale = JSON.parse(row.doc) as Job;
    const claimed: Job = {
      ...stale,
      attempts: stale.attempts + 1,
      owner: worker,
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
      updatedAt: now.toISOString(),
    };
    return this.change(stale, () => claimed) ? claimed : undefined;
  }

  /** Rewrites a running job held under `claim`; false when it is not (any more). */
  private change(claim: Claim, next: (job: Job) => Job): boolean {
    const db = this.database();
    return db.transaction(() => {
      const row = db.prepare(`SELECT doc FROM jobs WHERE id = ? AND attempts = ? AND state = 'running'`).get(claim.id, claim.attempts) as
        { doc: string } | undefined;
      if (!row) return false;
      const job = next(JSON.parse(row.doc) as Job);
      db.prepare('UPDATE jobs SET state = ?, attempts = ?, lease_until = ?, doc = ? WHERE id = ?').run(
        job.state,
        job.attempts,
        job.leaseUntil,
        JSON.stringify(job),
        job.id,
      );
      return true;
    })();
  }
}
