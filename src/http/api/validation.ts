import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DomainError } from '../../core/errors.js';
import { ROUTES, type RouteId, type RouteRow } from '../routes.js';
import type { QueryProperties } from './schemas.js';

/**
 * The one Ajv of the HTTP layer: every route's query and body schema (from its row in routes.ts)
 * is compiled here, on the route's first use: the API is not on the receiver's path, and compiling
 * every schema at import was a fifth of the start-up's CPU, which a single replica's restart gap
 * is made of (docs/deployment.md). Query values are coerced and defaulted by queryParser, not by
 * Ajv, so bodies are never coerced.
 */
const ajv = new Ajv({ allErrors: true, verbose: true });
addFormats.default(ajv, ['date-time']);

function row(id: RouteId): RouteRow {
  return (ROUTES as readonly RouteRow[]).find((route) => route.id === id)!;
}

/** The validator of a route's JSON body schema (see json-body.ts's validBody), compiled when first asked for. */
export function routeBody<T>(id: RouteId): () => ValidateFunction<T> {
  const schema = row(id).body;
  if (!schema) throw new Error(`route ${id} declares no body`);
  let validate: ValidateFunction<T> | undefined;
  return () => (validate ??= ajv.compile<T>(schema));
}

/**
 * A route's query parser from its row: values coerced to the schema's types, defaults filled in,
 * unknown parameters refused. Anything else is a 400 bad_request naming the parameter. An empty
 * value (`?source=`) counts as absent; of a repeated one the first counts.
 */
export function routeQuery<T>(id: RouteId): (querystring: string) => T {
  const properties = row(id).query;
  if (!properties) throw new Error(`route ${id} declares no query`);
  let compiled: ValidateFunction | undefined;
  return (querystring) => {
    const validate = (compiled ??= ajv.compile({ type: 'object', properties, additionalProperties: false }));
    const query: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [name, value] of new URLSearchParams(querystring)) {
      if (value !== '' && !Object.hasOwn(query, name)) query[name] = coerced(value, properties[name]);
    }
    for (const [name, schema] of Object.entries(properties)) if (!Object.hasOwn(query, name) && schema.default !== undefined) query[name] = schema.default;
    if (validate(query)) return query as T;
    throw new DomainError('bad_request', queryErrorMessage(validate.errors?.[0]));
  };
}

/** Text as the parameter's type when it reads as one (Ajv's own rules for numbers and booleans); as is otherwise, for the schema to refuse. */
function coerced(value: string, schema: QueryProperties[string] | undefined): unknown {
  if ((schema?.type === 'integer' || schema?.type === 'number') && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (schema?.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
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
