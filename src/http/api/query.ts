import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DomainError } from '../../core/errors.js';

/** JSON Schemas of a route's query parameters, by name: every value arrives as text and is coerced. */
export type QueryProperties = Record<string, Record<string, unknown>>;

/**
 * Compiles a route's query parameters into a parser: values coerced to the schema's types,
 * defaults filled in, unknown parameters refused. Anything else is a 400 bad_request naming the
 * parameter. An empty value (`?source=`) counts as absent; of a repeated one the first counts.
 * Compiled on first use, like the body schemas (see compiledOnUse).
 */
export function queryParser<T>(properties: QueryProperties): (querystring: string) => T {
  let compiled: ValidateFunction | undefined;
  return (querystring) => {
    const validate = (compiled ??= compileQuery(properties));
    const query: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [name, value] of new URLSearchParams(querystring)) {
      if (value !== '' && !Object.hasOwn(query, name)) query[name] = value;
    }
    if (validate(query)) return query as T;
    throw new DomainError('bad_request', queryErrorMessage(validate.errors?.[0]));
  };
}

function compileQuery(properties: QueryProperties): ValidateFunction {
  const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false, verbose: true, strict: true });
  addFormats.default(ajv, ['date-time']);
  return ajv.compile({ type: 'object', properties, additionalProperties: false });
}

function queryErrorMessage(error: ErrorObject | undefined): string {
  if (error === undefined) return 'Invalid query parameters';
  if (error.keyword === 'additionalProperties') {
    return `Unknown query parameter '${String(error.params.additionalProperty).slice(0, 64)}'`;
  }
  const name = error.instancePath.slice(1);
  const schema = (error.parentSchema ?? {}) as { type?: string; minimum?: number; maximum?: number; enum?: string[] };
  if (schema.enum) return `${name} must be one of ${schema.enum.join(', ')}`;
  if (schema.type === 'integer') return `${name} must be an integer from ${schema.minimum} to ${schema.maximum}`;
  if (error.keyword === 'format') return `${name} must be an ISO-8601 time with a zone, e.g. 2026-05-01T10:00:00Z`;
  return `${name} ${error.message ?? 'is invalid'}`;
}

/** A page size parameter from 1 to `max`. */
export const limitParameter = (fallback: number, max: number) => ({ type: 'integer', minimum: 1, maximum: max, default: fallback });
