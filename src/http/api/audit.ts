import { newAuditRecord, type AuditAction, type AuditStore } from '../../audit/audit.js';
import type { Logger } from '../../log/logger.js';
import { auditJson } from '../../wire/audit.js';
import type { RouteHandlers } from '../routes.js';
import type { RequestContext } from '../state.js';
import { routeQuery } from './validation.js';

export interface AuditDeps {
  store: AuditStore;
  logger: Logger;
  nowMs: () => number;
  /** Kubernetes mode: the user the registration writes are made as (see KubernetesRegistrations.identity). */
  kubernetesUser?: () => Promise<string | undefined>;
}

/** Notes a change made by the request's key; the handlers call it once the change is made. */
export type RecordChange = (ctx: RequestContext, action: AuditAction, target: string, details?: Record<string, unknown>) => Promise<void>;

/**
 * The audit log's writer. A record is written after its change succeeded; if the store cannot take
 * it then, the change stands (it cannot be undone here) and the whole record goes to the log as
 * an error line instead, so no change goes unrecorded.
 */
export function changeRecorder(deps: AuditDeps): RecordChange {
  return async (ctx, action, target, details = {}) => {
    const principal = ctx.state.principal!;
    const kubernetesUser = action.startsWith('source.') ? ((await deps.kubernetesUser?.()) ?? null) : null;
    const record = newAuditRecord(
      { actor: { keyId: principal.keyId, keyName: principal.name, kubernetesUser }, action, target, details },
      new Date(deps.nowMs()),
    );
    try {
      await deps.store.appendAudit(record);
    } catch (error) {
      deps.logger.error({ err: error, audit: auditJson(record) }, 'audit record could not be stored; this line is the record');
    }
  };
}

const parseQuery = routeQuery<{ limit: number; target?: string }>('audit.list');

/** `GET /api/audit?limit=&target=` (admin): the changes to API keys and registered sources, newest first. */
export function auditHandlers(store: AuditStore): Pick<RouteHandlers, 'audit.list'> {
  return {
    'audit.list': async (ctx) => {
      ctx.body = { items: (await store.listAudit(parseQuery(ctx.querystring))).map(auditJson) };
    },
  };
}
