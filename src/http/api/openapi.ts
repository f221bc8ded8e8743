import { SEVERITIES } from '../../incidents/model.js';
import { SCOPES } from '../../apikeys/api-key.js';
import { JOB_KINDS } from '../../jobs/job.js';
import { SOURCE_NAME_MAX_LENGTH, SOURCE_NAME_PATTERN, specOfSource, toSource } from '../../sources/source-spec.js';
import { FILE_SOURCE_SCHEMA, fileFieldsOf } from '../../sources/webhook-config.js';
import { createApiKeySchema } from './apikeys.js';
import { changeSchema, registrationSchema } from './webhooks.js';
import { ROUTES, type RouteId, type RouteRow } from '../routes.js';

/*
 * The HTTP API as an OpenAPI 3.1 document, served at /openapi.json. Request bodies are the very
 * schemas the routes validate with (OpenAPI 3.1 schemas are JSON Schema), so the two cannot drift;
 * docs/api.md is the prose next to it.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errorResponse = (description: string) => ({ description, ...json(ref('Error')) });
/** What every keyed route may answer before its handler runs. */
const AUTH_ERRORS = {
  '401': errorResponse('No valid API key: none, unknown, revoked or expired (`unauthorized`)'),
  '403': errorResponse('The key lacks the scope (`forbidden`)'),
};

interface Operation {
  summary: string;
  description?: string;
  parameters?: readonly unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

/** OpenAPI's `{name}` for the router's `:name`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** `paths` from the route table: every row's operation, its security and the answers of its check. */
function pathsFromRoutes(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const row of ROUTES as readonly RouteRow[]) {
    const operation = OPERATIONS[row.id as RouteId];
    const keyed = typeof row.access !== 'string';
    (paths[openApiPath(row.path)] ??= {})[row.method.toLowerCase()] = {
      operationId: row.id,
      ...operation,
      security: typeof row.access === 'string' ? [] : [{ apiKey: [row.access.scope] }],
      responses: keyed ? { ...operation.responses, ...AUTH_ERRORS } : operation.responses,
    };
  }
  return paths;
}
const SOURCE_NAME = { type: 'string', pattern: SOURCE_NAME_PATTERN, maxLength: SOURCE_NAME_MAX_LENGTH };
const sourcePath = { name: 'source', in: 'path', required: true, schema: SOURCE_NAME };

/**
 * A source as the API shows it (wire/source.ts): the config file's schema of every spec field,
 * or null where a source may leave it unset (what a source of an empty spec does not set).
 */
const SERVED_SOURCE_SCHEMA = (() => {
  const { secret: _secret, previous_secret: _previousSecret, ...fields } = (FILE_SOURCE_SCHEMA as { properties: Record<string, object> }).properties;
  const alwaysSet = fileFieldsOf(specOfSource(toSource({ name: 'any', origin: 'api', spec: {}, secrets: [] })));
  return {
    type: 'object',
    properties: {
      source: SOURCE_NAME,
      origin: { type: 'string', description: '`api`, `file:<path>` or `kubernetes:<namespace>/<name>`' },
      webhook_path: { type: 'string' },
      ...Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, key in alwaysSet ? schema : { anyOf: [schema, { type: 'null' }] }])),
      active_secrets: { type: 'integer', description: '2 while a rotated-out secret is still accepted; secrets themselves are never shown' },
    },
  };
})();
const limit = (max: number, fallback: number) => ({ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: max, default: fallback } });

const nullable = (type: string) => ({ type: [type, 'null'] });

/** Each route's operation; its path, method and security come from its row in routes.ts. */
const OPERATIONS: Record<RouteId, Operation> = {
  'webhooks.receive': {
    summary: 'Receive a signed webhook',
    description: 'Headers `X-Webhook-Timestamp` and `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (default profile).',
    parameters: [sourcePath],
    requestBody: { required: true, content: { 'application/json': { schema: {} } } },
    responses: {
      '201': { description: 'Incident created', ...json(ref('Accepted')) },
      '200': { description: 'Duplicate of a stored event', ...json(ref('Accepted')) },
      '202': { description: 'Queued for processing', ...json(ref('Queued')) },
      '400': errorResponse('`invalid_payload`'),
      '401': errorResponse('`invalid_timestamp`, `timestamp_expired`, `invalid_signature`'),
      '404': errorResponse('`unknown_source`'),
      '413': errorResponse('`payload_too_large`'),
      '429': errorResponse('`rate_limited` (with Retry-After)'),
      '503': errorResponse('`unavailable` (with Retry-After)'),
    },
  },
  'webhooks.get': {
    summary: 'Show one source (any origin)',
    parameters: [sourcePath],
    responses: { '200': { description: 'The source', ...json(ref('Source')) }, '404': errorResponse('`unknown_source`') },
  },
  'webhooks.update': {
    summary: 'Change a source registered through the API; a new secret rotates',
    parameters: [sourcePath],
    requestBody: { required: true, ...json(ref('RegistrationChange')) },
    responses: {
      '200': { description: 'The changed source', ...json(ref('Source')) },
      '400': errorResponse('`bad_request`'),
      '404': errorResponse('`unknown_source`'),
      '405': errorResponse('`method_not_allowed` when TW_REGISTRATION_API=false'),
      '409': errorResponse('`conflict`: declared in the file or the cluster'),
    },
  },
  'webhooks.remove': {
    summary: 'Remove a source registered through the API',
    parameters: [sourcePath],
    responses: {
      '204': { description: 'Removed' },
      '404': errorResponse('`unknown_source`'),
      '405': errorResponse('`method_not_allowed` when TW_REGISTRATION_API=false'),
      '409': errorResponse('`conflict`: declared in the file or the cluster'),
    },
  },
  'webhooks.list': {
    summary: 'List the sources served, from every origin',
    responses: { '200': { description: 'Sources', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Source') } } }) } },
  },
  'webhooks.register': {
    summary: 'Register a source',
    description:
      "Besides the schema: `auto_triage: true` needs a `playbook`, a rate limit's `burst` is at least `requests_per_second`, `severity_mapping` keys are lower-case (400 `bad_request` otherwise).",
    requestBody: { required: true, ...json(ref('Registration')) },
    responses: {
      '201': { description: 'Registered (the secret is never echoed)', ...json(ref('Source')) },
      '400': errorResponse('`bad_request`'),
      '405': errorResponse('`method_not_allowed` when TW_REGISTRATION_API=false'),
      '409': errorResponse('`conflict`: the name is taken (file, cluster or API)'),
      '503': errorResponse('`unavailable`: no TW_ENCRYPTION_KEY (outside development mode), or the store/cluster is down'),
    },
  },
  'webhooks.test': {
    summary: 'Send a signed test event through the real receiver and report the outcome',
    parameters: [sourcePath],
    responses: { '200': { description: 'The test ran; `accepted` says how it went', ...json(ref('TestResult')) }, '404': errorResponse('`unknown_source`') },
  },
  'apikeys.list': {
    summary: 'List API keys (never their tokens)',
    responses: { '200': { description: 'Keys', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('ApiKey') } } }) } },
  },
  'apikeys.create': {
    summary: 'Create an API key; the token is in this answer only',
    requestBody: { required: true, ...json(ref('CreateApiKey')) },
    responses: {
      '201': {
        description: 'Created',
        ...json({ allOf: [ref('ApiKey'), { type: 'object', required: ['token'], properties: { token: { type: 'string', pattern: '^tw_' } } }] }),
      },
      '400': errorResponse('`bad_request`'),
    },
  },
  'apikeys.revoke': {
    summary: 'Revoke an API key',
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { '204': { description: 'Revoked' }, '404': errorResponse('`not_found`') },
  },
  'logs.list': {
    summary: 'The delivery log: every webhook request, accepted or rejected, oldest of the tail first',
    parameters: [
      { name: 'filter', in: 'query', schema: { const: 'webhook' } },
      { name: 'tail', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      { name: 'source', in: 'query', schema: { type: 'string' } },
      { name: 'follow', in: 'query', schema: { type: 'boolean' }, description: 'Stream as Server-Sent Events (`event: delivery`, JSON data)' },
    ],
    responses: {
      '200': {
        description: 'Records, or an event stream with follow=true',
        content: {
          'application/json': { schema: { type: 'object', properties: { items: { type: 'array', items: ref('Delivery') } } } },
          'text/event-stream': { schema: { type: 'string' } },
        },
      },
    },
  },
  'deliveries.list': {
    summary: 'The delivery log, newest first',
    parameters: [{ name: 'source', in: 'query', schema: { type: 'string' } }, limit(1000, 100)],
    responses: { '200': { description: 'Records', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Delivery') } } }) } },
  },
  'incidents.list': {
    summary: 'Incidents, newest first, keyset-paginated',
    parameters: [
      { name: 'source', in: 'query', schema: { type: 'string' } },
      { name: 'severity', in: 'query', schema: { enum: SEVERITIES } },
      { name: 'status', in: 'query', schema: { enum: ['new', 'triaging', 'triaged', 'closed'] } },
      { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
      { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
      limit(500, 50),
    ],
    responses: {
      '200': { description: 'A page', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Incident') }, next: nullable('string') } }) },
    },
  },
  'incidents.get': {
    summary: 'One incident by id or number',
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { '200': { description: 'The incident', ...json(ref('Incident')) }, '404': errorResponse('`not_found`') },
  },
  'queue.get': {
    summary: 'A queued delivery',
    parameters: [{ name: 'queueId', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { '200': { description: 'The queue entry' }, '404': errorResponse('`not_found`') },
  },
  'triage.list': {
    summary: 'The auto-triage outbox',
    parameters: [{ name: 'state', in: 'query', schema: { enum: ['pending', 'dispatched', 'failed'] } }, limit(500, 50)],
    responses: { '200': { description: 'Triage requests' } },
  },
  'store.check': {
    summary: 'Run the full integrity check of the store now (one at a time); the report also when it finds damage',
    responses: {
      '200': { description: 'The report', ...json(ref('IntegrityReport')) },
      '409': errorResponse('`conflict`: a check is already running'),
      '503': errorResponse('`unavailable`: the store cannot be reached'),
    },
  },
  'store.backup': {
    summary: 'Start an online backup of the embedded store into TW_BACKUP_DIR',
    responses: {
      '202': { description: 'Started; follow it at the Location', ...json(ref('Job')) },
      '405': errorResponse('`method_not_allowed`: the MongoDB store is backed up with its own tools'),
      '409': errorResponse('`conflict`: a backup is already running'),
    },
  },
  'jobs.list': {
    summary: 'Admin jobs, newest first',
    parameters: [{ name: 'kind', in: 'query', schema: { enum: JOB_KINDS } }, limit(100, 20)],
    responses: { '200': { description: 'Jobs', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Job') } } }) } },
  },
  'jobs.get': {
    summary: 'One admin job: its progress, report and outcome',
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { '200': { description: 'The job', ...json(ref('Job')) }, '404': errorResponse('`not_found`') },
  },
  openapi: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
  healthz: { summary: 'Liveness', responses: { '200': { description: 'ok' } } },
  readyz: { summary: 'Readiness: sources synced and store healthy', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } },
  metrics: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition' } } },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'tw-webhooks API',
    version: '0.1.0',
    description: 'Signed security webhooks in, incidents out; sources, API keys and the delivery log for operators. Prose: docs/api.md.',
  },
  components: {
    securitySchemes: {
      apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`tw_…`) or the bootstrap TW_API_TOKEN. Scopes: ' + SCOPES.join(', ') },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
      },
      Accepted: {
        type: 'object',
        required: ['status', 'incident_id', 'incident_number'],
        properties: {
          status: { const: 'accepted' },
          incident_id: { type: 'string', format: 'uuid' },
          incident_number: { type: 'string', pattern: '^INC-\\d{4}-\\d{4,}$' },
          duplicate: { type: 'boolean' },
        },
      },
      Queued: {
        type: 'object',
        required: ['status', 'queue_id', 'message'],
        properties: { status: { const: 'queued' }, queue_id: { type: 'string' }, message: { type: 'string' } },
      },
      Registration: registrationSchema,
      RegistrationChange: changeSchema,
      Source: SERVED_SOURCE_SCHEMA,
      TestResult: {
        type: 'object',
        properties: {
          source: { type: 'string' },
          accepted: { type: 'boolean' },
          status: { type: 'integer', description: "The receiver's HTTP status for the test event" },
          response: { description: "The receiver's answer" },
          latency_ms: { type: 'number' },
        },
      },
      CreateApiKey: createApiKeySchema,
      ApiKey: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          scopes: { type: 'array', items: { enum: SCOPES } },
          created_at: { type: 'string', format: 'date-time' },
          expires_at: nullable('string'),
          last_used_at: { type: ['string', 'null'], description: 'Updated at most once a minute' },
        },
      },
      Delivery: {
        type: 'object',
        properties: {
          at: { type: 'string', format: 'date-time' },
          source: { type: 'string', description: 'A registered source or `_unknown`' },
          status: { type: 'integer' },
          code: { type: ['string', 'null'], description: 'The error code; null when accepted' },
          latency_ms: { type: 'number' },
          incident_id: nullable('string'),
          queue_id: nullable('string'),
          remote_address: nullable('string'),
        },
      },
      IntegrityReport: {
        type: 'object',
        required: ['ok', 'parts'],
        properties: {
          ok: { type: 'boolean' },
          parts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'ok', 'problems'],
              properties: {
                name: { type: 'string', description: 'A database file (embedded) or collection (MongoDB)' },
                ok: { type: 'boolean' },
                problems: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
      Job: {
        type: 'object',
        required: ['job_id', 'kind', 'state', 'progress'],
        properties: {
          job_id: { type: 'string', pattern: '^job-' },
          kind: { enum: JOB_KINDS },
          state: { enum: ['running', 'done', 'failed'] },
          params: { type: 'object' },
          progress: {
            type: 'object',
            properties: { done: { type: 'integer' }, total: nullable('integer'), unit: { type: 'string' } },
          },
          report: { type: ['object', 'null'], description: "What the job found or made (each kind's own, see docs/api.md)" },
          error: nullable('string'),
          attempts: { type: 'integer', description: 'Runs so far: more than 1 when it was taken over after its process stopped' },
          created_at: { type: 'string', format: 'date-time' },
          updated_at: { type: 'string', format: 'date-time' },
          finished_at: nullable('string'),
        },
      },
      Incident: {
        type: 'object',
        description: 'See docs/api.md for the fields',
        properties: { incident_id: { type: 'string' }, incident_number: { type: 'string' } },
      },
    },
  },
  paths: pathsFromRoutes(),
} as const;
