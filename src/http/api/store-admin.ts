import { DomainError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import type { JobControl, JobKind } from '../../jobs/job.js';
import { jobJson } from '../../wire/job.js';
import type { RequestContext } from '../state.js';
import type { RouteHandlers } from '../routes.js';
import { routeQuery } from './validation.js';

export interface StoreAdminDeps {
  store: Store;
  jobs: JobControl;
}

const parseJobsQuery = routeQuery<{ kind?: JobKind; limit: number }>('jobs.list');

/** A started job: 202 with where to follow it. */
export function answerStarted(ctx: RequestContext, job: Parameters<typeof jobJson>[0]): void {
  ctx.status = 202;
  ctx.set('Location', `/api/jobs/${job.id}`);
  ctx.body = jobJson(job);
}

/**
 * The store's upkeep (docs/api.md, "Store administration"): the on-demand integrity check, one at
 * a time per process since it reads every page; the backup, a job; and the jobs themselves.
 */
export function storeAdminHandlers(deps: StoreAdminDeps): Pick<RouteHandlers, 'store.check' | 'store.backup' | 'jobs.list' | 'jobs.get'> {
  let checking = false;
  return {
    'store.check': async (ctx) => {
      if (checking) throw new DomainError('conflict', 'An integrity check is already running; retry when it has finished');
      checking = true;
      try {
        ctx.body = await deps.store.checkIntegrity();
      } finally {
        checking = false;
      }
    },
    'store.backup': async (ctx) => {
      if (!deps.store.backup) {
        throw new DomainError(
          'method_not_allowed',
          'The MongoDB store is backed up with mongodump or volume snapshots, not through this API; see docs/operations.md ("Backup and restore")',
        );
      }
      answerStarted(ctx, await deps.jobs.startJob('backup', {}));
    },
    'jobs.list': async (ctx) => {
      ctx.body = { items: (await deps.jobs.list(parseJobsQuery(ctx.querystring))).map(jobJson) };
    },
    'jobs.get': async (ctx) => {
      const job = await deps.jobs.get(String(ctx.params.id));
      if (!job) throw new DomainError('not_found', `Job '${String(ctx.params.id).slice(0, 64)}' not found`);
      ctx.body = jobJson(job);
    },
  };
}
