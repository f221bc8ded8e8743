import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import { StoreUnavailableError } from '../store/store.js';
import type { Metrics } from '../metrics/metrics.js';

/** Seconds a sender should wait before retrying when the store is down. */
const STORE_RETRY_AFTER_SECONDS = '5';

/**
 * The one place that turns errors into responses: the contract's envelope, the webhook error
 * counter, one log line. Unexpected exceptions become 500 internal_error with no stack in the body.
 */
export function errorMiddleware(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new ApiError('not_found', 404, `No route for ${ctx.method} ${ctx.path}`);
    } catch (error) {
      const apiError = toApiError(error);
      ctx.status = apiError.status;
      ctx.set(apiError.headers);
      ctx.body = { error: { code: apiError.code, message: apiError.message } };
      const source = ctx.state.sourceLabel as string | undefined;
      if (source !== undefined) metrics.webhookErrors.inc({ source, code: apiError.code });
      const fields = { method: ctx.method, path: ctx.path, status: apiError.status, code: apiError.code, source };
      if (apiError.status >= 500) logger.error({ ...fields, err: error }, apiError.message);
      else logger.warn(fields, apiError.message);
    }
  };
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreUnavailableError) {
    return new ApiError('unavailable', 503, 'Incident store is unavailable, retry later', { 'Retry-After': STORE_RETRY_AFTER_SECONDS });
  }
  // koa-bodyparser and Koa itself throw http-errors with an `expose`d client status
  const httpError = error as { status?: number; expose?: boolean; message?: string };
  if (httpError.expose && typeof httpError.status === 'number' && httpError.status < 500) {
    const code = httpError.status === 413 ? 'payload_too_large' : 'bad_request';
    return new ApiError(code, httpError.status, httpError.message ?? 'Bad request');
  }
  return new ApiError('internal_error', 500, 'Internal server error');
}
