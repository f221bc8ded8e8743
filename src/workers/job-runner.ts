import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { DomainError, StoreUnavailableError } from '../core/errors.js';
import { jobClaim, type Job, type JobContext, type JobControl, type JobHandler, type JobKind, type JobOutcome, type JobStore } from '../jobs/job.js';

export interface JobRunnerDeps {
  store: JobStore;
  handlers: readonly JobHandler[];
  workerId: string;
  logger: Logger;
  metrics: Metrics;
  /** How long a job stays with this worker without a renewal (default 15 s). */
  leaseMs?: number;
  /** How often a running job's progress is written and its lease renewed (default 2 s). */
  heartbeatMs?: number;
  /** How often this worker looks for jobs whose holder died (default 5 s). */
  pollMs?: number;
  now?: () => Date;
}

/** A job this worker runs, with the progress not yet written. */
interface Running {
  job: Job;
  handler: JobHandler;
  checkpoint: Pick<Job, 'progress' | 'report' | 'cursor'>;
  stopped: boolean;
  writing: Promise<void> | undefined;
  done: Promise<void>;
}

/**
 * Runs admin jobs in the background (docs/operations.md, "Admin jobs"). A start is stored first
 * (one running job of a kind, seen by every replica), then runs here; every heartbeat writes its
 * progress and renews its lease. A job whose holder died is taken over by whichever replica
 * looks next once its lease ended: a resumable one continues from its last checkpoint, another
 * fails as interrupted. Stopping the service leaves resumable jobs with their lease released, so
 * the next start continues them at once.
 */
export class JobRunner implements JobControl {
  private readonly handlers: ReadonlyMap<JobKind, JobHandler>;
  private readonly running = new Map<string, Running>();
  private readonly leaseMs: number;
  private readonly now: () => Date;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly deps: JobRunnerDeps) {
    this.handlers = new Map(deps.handlers.map((handler) => [handler.kind, handler]));
    this.leaseMs = deps.leaseMs ?? 15_000;
    this.now = deps.now ?? (() => new Date());
  }

  start(): void {
    const look = () => void this.takeOverStale().finally(() => this.schedule(look));
    look();
  }

  async startJob(kind: JobKind, params: Record<string, unknown>): Promise<Job> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new DomainError('method_not_allowed', `This store cannot run ${kind} jobs`);
    const now = this.now();
    const result = await this.deps.store.startJob({
      id: `job-${randomUUID()}`,
      kind,
      params,
      progress: { done: 0, total: null, unit: handler.unit },
      owner: this.deps.workerId,
      leaseUntil: this.leaseEnd(now),
      createdAt: now.toISOString(),
    });
    if (!result.started) throw new DomainError('conflict', `A ${kind} job is already running: ${result.running.id}`);
    this.launch(result.job, handler);
    return result.job;
  }

  get(id: string): Promise<Job | undefined> {
    return this.deps.store.getJob(id);
  }

  list(query: { kind?: JobKind; limit: number }): Promise<Job[]> {
    return this.deps.store.listJobs(query);
  }

  /** Stops looking, asks the jobs here to stop at their next step, and waits up to `graceMs` for them. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pollTimer);
    for (const running of this.running.values()) running.stopped = true;
    const jobs = [...this.running.values()].map((running) => running.done);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(jobs), new Promise((waited) => (grace = setTimeout(waited, graceMs)))]);
    clearTimeout(grace);
  }

  private schedule(look: () => void): void {
    if (this.stopping) return;
    this.pollTimer = setTimeout(look, this.deps.pollMs ?? 5_000);
    this.pollTimer.unref();
  }

  private async takeOverStale(): Promise<void> {
    try {
      for (;;) {
        const job = await this.deps.store.claimStaleJob(this.deps.workerId, this.now(), this.leaseMs);
        if (!job) return;
        const handler = this.handlers.get(job.kind);
        if (handler?.resumable && !this.stopping) {
          this.deps.logger.info({ job: job.id, kind: job.kind, attempt: job.attempts, done: job.progress.done }, 'resuming an interrupted job');
          this.launch(job, handler);
        } else {
          await this.finish(job, { state: 'failed', error: 'interrupted: the process running it stopped; start it again' });
        }
      }
    } catch (error) {
      const level = error instanceof StoreUnavailableError ? 'debug' : 'error';
      this.deps.logger[level]({ err: error }, 'looking for interrupted jobs failed');
    }
  }

  private launch(job: Job, handler: JobHandler): void {
    const running: Running = {
      job,
      handler,
      checkpoint: { progress: job.progress, report: job.report, cursor: job.cursor },
      stopped: false,
      writing: undefined,
      done: Promise.resolve(),
    };
    const context: JobContext = {
      job,
      progress: (update) => {
        running.checkpoint = {
          progress: { ...running.checkpoint.progress, done: update.done, total: update.total },
          report: update.report === undefined ? running.checkpoint.report : update.report,
          cursor: update.cursor === undefined ? running.checkpoint.cursor : update.cursor,
        };
        this.deps.metrics.jobProgress.set({ kind: job.kind }, update.total ? update.done / update.total : 0);
      },
      checkpoint: () => this.write(running),
      stopped: () => running.stopped,
    };
    // A heartbeat while a write is still under way would only queue behind it.
    const heartbeat = setInterval(() => {
      if (!running.writing) void this.write(running);
    }, this.deps.heartbeatMs ?? 2_000);
    heartbeat.unref();
    this.running.set(job.id, running);
    running.done = handler
      .run(context)
      .then(
        async (report) => {
          await running.writing;
          if (!running.stopped) return this.finish(job, { state: 'done', report, progress: running.checkpoint.progress });
          // Stopped with the service: a resumable job keeps its place for whoever starts next.
          if (!this.stopping) return;
          if (handler.resumable) await this.write(running, this.now());
          else await this.finish(job, { state: 'failed', error: 'interrupted: the service stopped; start it again' });
        },
        async (error: unknown) => {
          await running.writing;
          if (!running.stopped || this.stopping) {
            await this.finish(job, { state: 'failed', error: (error as Error).message ?? String(error), progress: running.checkpoint.progress });
          }
        },
      )
      .catch((error: unknown) => this.deps.logger.error({ err: error, job: job.id }, 'recording the end of a job failed; its lease will expire'))
      .finally(() => {
        clearInterval(heartbeat);
        this.running.delete(job.id);
        this.deps.metrics.jobProgress.remove({ kind: job.kind });
      });
  }

  /**
   * Writes the progress and renews the lease (to `releaseAt` when releasing); a lost claim stops
   * the job. Writes go one at a time, each with the latest progress.
   */
  private write(running: Running, releaseAt?: Date): Promise<void> {
    if (running.writing) return running.writing.then(() => this.write(running, releaseAt));
    const now = this.now();
    running.writing = this.deps.store
      .checkpointJob(jobClaim(running.job), {
        ...running.checkpoint,
        leaseUntil: releaseAt ? releaseAt.toISOString() : this.leaseEnd(now),
        at: now.toISOString(),
      })
      .then(
        (held) => {
          if (held) return;
          running.stopped = true;
          this.deps.logger.warn({ job: running.job.id }, 'job taken over by another worker (its lease ran out); stopping it here');
        },
        (error: unknown) => this.deps.logger.debug({ err: error, job: running.job.id }, 'job progress not written; next heartbeat retries'),
      )
      .finally(() => (running.writing = undefined));
    return running.writing;
  }

  private async finish(job: Job, outcome: JobOutcome): Promise<void> {
    const recorded = await this.deps.store.finishJob(jobClaim(job), outcome, this.now().toISOString());
    if (!recorded) return;
    this.deps.metrics.jobsFinished.inc({ kind: job.kind, state: outcome.state });
    if (outcome.state === 'done') this.deps.logger.info({ job: job.id, kind: job.kind, report: outcome.report }, 'job done');
    else this.deps.logger.error({ job: job.id, kind: job.kind, error: outcome.error }, 'job failed');
  }

  private leaseEnd(now: Date): string {
    return new Date(now.getTime() + this.leaseMs).toISOString();
  }
}
