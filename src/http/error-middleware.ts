import type { Logger } from '../log/logger.js';
import { DomainError } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { ERROR_STATUS, errorHeaders } from './error-status.js';
import type { RequestContext, RequestMiddleware } from './state.js';

/**
 * The one place that turns errors into responses: the contract's envelope, the webhook error
 * counter, one log line. Unexpected exceptions become 500 internal_error with no stack in the body.
 */
export function errorMiddleware(logger: Logger, metrics: Metrics): RequestMiddleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) unanswered(ctx);
    } catch (error) {
      const domain = toDomainError(error);
      const status = ERROR_STATUS[domain.code];
      ctx.status = status;
      ctx.set(errorHeaders(domain));
      ctx.body = { error: { code: domain.code, message: domain.message } };
      ctx.state.errorCode = domain.code;
      // The rest of a refused body is not read: closing is cheaper than draining it, and a sender
      // on a kept-alive connection would otherwise wait on the socket until the request deadline.
      if (domain.code === 'payload_too_large') ctx.set('Connection', 'close');
      const source = ctx.state.sourceLabel;
      if (source !== undefined) metrics.webhookErrors.inc({ source, code: domain.code });
      const fields = { method: ctx.method, path: ctx.path, status, code: domain.code, source };
      if (status >= 500) logger.error({ ...fields, err: error }, domain.message);
      else logger.warn(fields, domain.message);
    }
  };
}

/**
 * What the routers left without a body becomes an error in the envelope: no route (404), a method
 * the path does not serve (405; the routers set `Allow`), or one no route serves at all (the
 * routers' 501: 405 too when the path exists, else 404).
 */
function unanswered(ctx: RequestContext): void {
  const allowed = ctx.response.get('Allow');
  if (ctx.status === 404 || (ctx.status === 501 && !allowed)) {
    ctx.remove('Allow');
    throw new DomainError('not_found', `No route for ${ctx.method} ${ctx.path.slice(0, 256)}`);
  }
  if (ctx.status === 405 || ctx.status === 501) throw new DomainError('method_not_allowed', `${ctx.method} is not allowed here; allowed: ${allowed}`);
}

/** Koa and koa-bodyparser throw http-errors; an `expose`d client status keeps its meaning. */
function toDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  const httpError = error as { status?: number; expose?: boolean; message?: string };
  if (httpError.expose && typeof httpError.status === 'number' && httpError.status < 500) {
    const code = httpError.status === 413 ? 'payload_too_large' : 'bad_request';
    return new DomainError(code, httpError.message ?? 'Bad request');
  }
  return new DomainError('internal_error', 'Internal server error');
}
