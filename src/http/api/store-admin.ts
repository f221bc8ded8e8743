import { DomainError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import type { JobControl, JobKind } from '../../jobs/job.js';
import { jobJson } from '../../wire/job.js';
import type { RequestContext } from '../state.js';
import type { RouteHandlers } from '../routes.js';
import { routeBody, routeQuery } from './validation.js';
import { jsonBody, validBody } from './json-body.js';
import type { RenormalizeParams } from '../../jobs/renormalize.js';
import type { SourceLookup } from '../../sources/source.js';

export interface StoreAdminDeps {
  store: Store;
  jobs: JobControl;
  /** The sources served: a re-normalization applies a source's settings of today. */
  sources: SourceLookup;
}

const parseJobsQuery = routeQuery<{ kind?: JobKind; limit: number }>('jobs.list');
const validateRenormalize = routeBody<RenormalizeParams>('store.renormalize');

/** A started job: 202 with where to follow it. */
function answerStarted(ctx: RequestContext, job: Parameters<typeof jobJson>[0]): void {
  ctx.status = 202;
  ctx.set('Location', `/api/jobs/${job.id}`);
  ctx.body = jobJson(job);
}

/**
 * The store's upkeep (docs/api.md, "Store administration"): the on-demand integrity check, one at
 * a time per process since it reads every page; the backup, a job; and the jobs themselves.
 */
export function storeAdminHandlers(deps: StoreAdminDeps): Pick<RouteHandlers, 'store.check' | 'store.backup' | 'store.renormalize' | 'jobs.list' | 'jobs.get'> {
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
    'store.renormalize': [
      jsonBody(),
      async (ctx) => {
        const { since, until, ...params } = validBody(ctx, validateRenormalize);
        if (params.source !== undefined && !deps.sources.get(params.source)) {
          throw new DomainError('bad_request', `Source '${params.source}' is not served: re-normalizing applies its settings of today`);
        }
        // Stored times are compared as text: in the stores' own ISO form.
        const range = {
          ...(since !== undefined && { since: new Date(since).toISOString() }),
          ...(until !== undefined && { until: new Date(until).toISOString() }),
        };
        if (range.since !== undefined && range.until !== undefined && range.since >= range.until)
          throw new DomainError('bad_request', 'since must be before until');
        answerStarted(ctx, await deps.jobs.startJob('renormalize', { requeue_triage: false, ...params, ...range }));
      },
    ],
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
