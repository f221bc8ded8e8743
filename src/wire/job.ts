import type { Job } from '../jobs/job.js';

/** A job as the API shows it; `params` and `report` are already in the API's words (each kind's own). */
export function jobJson(job: Job) {
  return {
    job_id: job.id,
    kind: job.kind,
    state: job.state,
    params: job.params,
    progress: job.progress,
    report: job.report,
    error: job.error,
    attempts: job.attempts,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    finished_at: job.finishedAt,
  };
}
