import { JOB_KINDS, type Job } from '../jobs/job.js';

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

const nullable = (type: string) => ({ type: [type, 'null'] });

/** The schema of jobJson (the OpenAPI document's `Job`). */
export const JOB_JSON_SCHEMA = {
  type: 'object',
  required: ['job_id', 'kind', 'state', 'params', 'progress', 'report', 'error', 'attempts', 'created_at', 'updated_at', 'finished_at'],
  properties: {
    job_id: { type: 'string', pattern: '^job-' },
    kind: { enum: JOB_KINDS },
    state: { enum: ['running', 'done', 'failed'] },
    params: { type: 'object' },
    progress: {
      type: 'object',
      required: ['done', 'total', 'unit'],
      properties: { done: { type: 'integer' }, total: nullable('integer'), unit: { type: 'string' } },
    },
    report: { type: ['object', 'null'], description: "What the job found or made (each kind's own, see docs/api.md)" },
    error: nullable('string'),
    attempts: { type: 'integer', description: 'Runs so far: more than 1 when it was taken over after its process stopped' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    finished_at: nullable('string'),
  },
};
