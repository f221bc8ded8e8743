import type { Logger } from 'pino';
import { DomainError } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { ERROR_STATUS, errorHeaders } from './error-status.js';
import type { RequestMiddleware } from './state.js';

/**
 * The one place that turns errors into responses: the contract's envelope, the webhook error
 * counter, one log line. Unexpected exceptions become 500 internal_error with no stack in the body.
 */
export function errorMiddleware(logger: Logger, metrics: Metrics): RequestMiddleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new DomainError('not_found', `No route for ${ctx.method} ${ctx.path}`);
    } catch (error) {
      const domain = toDomainError(error);
      const status = ERROR_STATUS[domain.code];
      ctx.status = status;
      ctx.set(errorHeaders(domain));
      ctx.body = { error: { code: domain.code, message: domain.message } };
      ctx.state.errorCode = domain.code;
      const source = ctx.state.sourceLabel;
      if (source !== undefined) metrics.webhookErrors.inc({ source, code: domain.code });
      const fields = { method: ctx.method, path: ctx.path, status, code: domain.code, source };
      if (status >= 500) logger.error({ ...fields, err: error }, domain.message);
      else logger.warn(fields, domain.message);
    }
  };
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
