import type { Claim } from '../incidents/ports.js';

/**
 * Long-running admin work (docs/operations.md, "Admin jobs"): started through the API, it gets an
 * id at once and runs in the background; its progress, report and outcome are kept in the store,
 * so any replica answers `GET /api/jobs/:id` and a job whose process died is taken over.
 */
export const JOB_KINDS = ['backup', 'renormalize'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

type JobState = 'running' | 'done' | 'failed';

interface JobProgress {
  done: number;
  /** null until known. */
  total: number | null;
  /** What `done` and `total` count: `pages`, `incidents`. */
  unit: string;
}

export interface Job {
  /** `job-<uuid>`. */
  id: string;
  kind: JobKind;
  state: JobState;
  /** What it was asked to do (kind-specific JSON). */
  params: Record<string, unknown>;
  progress: JobProgress;
  /** What it found or made so far (kind-specific JSON); final once done. */
  report: Record<string, unknown> | null;
  /** Where a resumed job continues (kind-specific, opaque). */
  cursor: string | null;
  error: string | null;
  /** Claims so far (the first run is 1): a fencing token, as for queue entries. */
  attempts: number;
  /** The worker holding the job and when its lease ends, while running. */
  owner: string | null;
  leaseUntil: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export type NewJob = Pick<Job, 'id' | 'kind' | 'params' | 'progress' | 'owner' | 'leaseUntil' | 'createdAt'>;

/** What the holder writes as it goes: progress, report and cursor, with its lease renewed. */
export interface JobCheckpoint {
  progress: JobProgress;
  report: Record<string, unknown> | null;
  cursor: string | null;
  leaseUntil: string;
  at: string;
}

/** How a job ended, with its last progress when its holder knows it. */
export type JobOutcome = ({ state: 'done'; report: Record<string, unknown> | null } | { state: 'failed'; error: string }) & { progress?: JobProgress };

export type StartedJob = { started: true; job: Job } | { started: false; running: Job };

/** The jobs as a store keeps them: at most one running job of each kind, in every replica's view. */
export interface JobStore {
  /** Stores the job as running (attempt 1), unless a job of its kind is running: then that one. */
  startJob(job: NewJob): Promise<StartedJob>;
  getJob(id: string): Promise<Job | undefined>;
  /** Newest first. */
  listJobs(query: { kind?: JobKind; limit: number }): Promise<Job[]>;
  /** false when the claim was lost (the lease ran out and another worker took the job over). */
  checkpointJob(claim: Claim, checkpoint: JobCheckpoint): Promise<boolean>;
  finishJob(claim: Claim, outcome: JobOutcome, at: string): Promise<boolean>;
  /** Takes over a running job whose lease ended (its holder stopped or died): attempts + 1. */
  claimStaleJob(worker: string, now: Date, leaseMs: number): Promise<Job | undefined>;
}

/** The claim a job's holder proves itself with. */
export const jobClaim = (job: Pick<Job, 'id' | 'attempts'>): Claim => ({ id: job.id, attempts: job.attempts });

/** What the API and the scheduler drive jobs through (the job runner implements it). */
export interface JobControl {
  /** Starts a job of `kind`; a DomainError `conflict` when one is running, naming it. */
  startJob(kind: JobKind, params: Record<string, unknown>): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  list(query: { kind?: JobKind; limit: number }): Promise<Job[]>;
}

/** What a kind's handler is given while it runs. */
export interface JobContext {
  /** The job as started or taken over: its params and, when resumed, its last checkpoint. */
  readonly job: Job;
  /** Records how far it got; the runner writes it to the store with each renewal of the lease. */
  progress(update: { done: number; total: number | null; report?: Record<string, unknown> | null; cursor?: string | null }): void;
  /** Writes what progress recorded now: a resumable job's cursor once the work before it is durable. */
  checkpoint(): Promise<void>;
  /** True once the service stops or the job was taken over: return at the next step, work kept so far stays. */
  stopped(): boolean;
}

/** How one kind of job runs. */
export interface JobHandler {
  kind: JobKind;
  /** What the progress counts. */
  unit: string;
  /** Whether a job interrupted by a crash or a stop continues from its cursor; else it is failed. */
  resumable: boolean;
  /** Runs (or continues) the job; resolves with its report. Rejects to fail it with the error's message. */
  run(context: JobContext): Promise<Record<string, unknown> | null>;
}
