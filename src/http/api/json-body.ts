import bodyParser from 'koa-bodyparser';
import type { ValidateFunction, ErrorObject } from 'ajv';
import { DomainError } from '../../core/errors.js';
import type { RequestContext, RequestMiddleware } from '../state.js';

/**
 * JSON request bodies of the management routes (never the webhook receiver, which needs raw bytes).
 * The spec's own `curl -d '{…}'` sends no JSON content type, so form and text types are read as
 * JSON too: these routes take nothing else.
 */
export function jsonBody(): RequestMiddleware {
  return bodyParser({
    enableTypes: ['json'],
    extendTypes: { json: ['application/x-www-form-urlencoded', 'text/plain'] },
    jsonLimit: '64kb',
    strict: true,
    onerror: () => {
      throw new DomainError('bad_request', 'The request body is not valid JSON');
    },
  });
}

/** The parsed body, checked against a route's schema (routeBody); every problem in one 400 bad_request. */
export function validBody<T>(ctx: RequestContext, validator: () => ValidateFunction<T>): T {
  const validate = validator();
  const body: unknown = (ctx.request as { body?: unknown }).body;
  if (validate(body)) return body;
  throw new DomainError('bad_request', describeProblems(validate.errors ?? []));
}

function describeProblems(errors: readonly ErrorObject[]): string {
  const problems = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if') continue; // its `then` says what is missing
    const where = error.instancePath.split('/').slice(1).join('.') || 'body';
    if (error.keyword === 'additionalProperties') problems.add(`${where}: unknown key '${String(error.params.additionalProperty)}'`);
    else if (error.keyword === 'required') problems.add(`${where}: missing '${String(error.params.missingProperty)}'`);
    else if (error.keyword === 'enum') problems.add(`${where} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`);
    else problems.add(`${where} ${error.message ?? 'is invalid'}`);
  }
  return [...problems].join('; ');
}
