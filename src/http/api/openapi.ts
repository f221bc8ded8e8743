import { SCOPES } from '../../apikeys/api-key.js';
import { AUDIT_JSON_SCHEMA } from '../../wire/audit.js';
import { API_KEY_JSON_SCHEMA } from '../../wire/api-key.js';
import { DELIVERY_JSON_SCHEMA } from '../../wire/delivery.js';
import { SOURCE_JSON_SCHEMA } from '../../wire/source.js';
import { JOB_JSON_SCHEMA } from '../../wire/job.js';
import { INTEGRITY_REPORT_JSON_SCHEMA } from '../../wire/integrity-report.js';
import { CREATE_API_KEY_BODY, REGISTRATION_BODY, REGISTRATION_CHANGE_BODY, SOURCE_NAME } from './schemas.js';
import { ROUTES, type RouteId, type RouteRow } from '../routes.js';
import { OCSF_MEDIA_TYPE, OCSF_VERSION } from '../../wire/ocsf.js';
import { SPEC_RULES, fileKeys } from '../../sources/source-spec.js';
import { MIN_SECRET_BYTES } from '../../verify/secret-strength.js';

/*
 * The HTTP API as an OpenAPI 3.1 document, served at /openapi.json. Paths, methods, security, path
 * and query parameters and request bodies come from the route table, whose rows hold the very
 * schemas the routes validate with (OpenAPI 3.1 schemas are JSON Schema), so the two cannot drift;
 * every route that validates input documents its 400. docs/api.md is the prose next to it.
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
  /** Only for a body no row's schema says (the receiver takes raw bytes). */
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

/** The request bodies that are components of their own (clients generate types from them). */
const BODY_COMPONENTS = new Map<object, string>([
  [REGISTRATION_BODY, 'Registration'],
  [REGISTRATION_CHANGE_BODY, 'RegistrationChange'],
  [CREATE_API_KEY_BODY, 'CreateApiKey'],
]);

/** A row's `:name` segments as path parameters; a source name has the spec's own pattern. */
function pathParameters(path: string) {
  return [...path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: name === 'source' ? SOURCE_NAME : { type: 'string' } }));
}

/** A row's query parameters; an empty value counts as absent (api/validation.ts), which `allowEmptyValue` says. */
function queryParameters(query: RouteRow['query']) {
  return Object.entries(query ?? {}).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    schema,
    allowEmptyValue: true,
    ...(description !== undefined && { description }),
  }));
}

/** OpenAPI's `{name}` for the router's `:name`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** `paths` from the route table: every row's operation, its security and the answers of its check. */
function pathsFromRoutes(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const row of ROUTES as readonly RouteRow[]) {
    const operation = OPERATIONS[row.id as RouteId];
    const keyed = typeof row.access !== 'string';
    const parameters = [...pathParameters(row.path), ...queryParameters(row.query)];
    const body = row.body && { required: true, ...json(BODY_COMPONENTS.has(row.body) ? ref(BODY_COMPONENTS.get(row.body)!) : row.body) };
    const invalidInput = row.query || row.body ? { '400': errorResponse(`\`bad_request\`: the ${row.body ? 'body' : 'query'} does not fit its schema`) } : {};
    (paths[openApiPath(row.path)] ??= {})[row.method.toLowerCase()] = {
      operationId: row.id,
      ...operation,
      ...(parameters.length > 0 && { parameters }),
      ...(body && { requestBody: body }),
      security: typeof row.access === 'string' ? [] : [{ apiKey: [row.access.scope] }],
      responses: { ...invalidInput, ...operation.responses, ...(keyed && AUTH_ERRORS) },
    };
  }
  return paths;
}

const nullable = (type: string) => ({ type: [type, 'null'] });

/** An operation's description of the rules its handler checks that JSON Schema cannot state (each a 400 `bad_request`). */
const beyondTheSchema = (rules: readonly string[]) => `Besides the schema (400 \`bad_request\` otherwise):\n${rules.map((rule) => `- ${rule}`).join('\n')}`;

/** What a registered source must also hold, the rules across fields (source-spec.ts) in the body's key names. */
const REGISTRATION_RULES = [
  ...SPEC_RULES.map((rule) => rule.message(fileKeys)),
  "filter's expressions compile within their cost bound (docs/filters.md)",
  `secret and previous_secret give the profile at least ${MIN_SECRET_BYTES} bytes of key (standard-webhooks: a whsec_ secret's decoded base64)`,
];

function statusChangeOperation(status: string): Operation {
  return {
    summary: `Mark an incident ${status}, recorded with the API key's name and the time`,
    responses: {
      '200': { description: `The incident, ${status} (now or before)`, ...json(ref('Incident')) },
      '404': errorResponse('`not_found`'),
      '409': errorResponse('`conflict`: the incident is past that status'),
    },
  };
}

/** OpenAPI links from an answer to the operations it names, each given `parameters` from that answer. */
const linksWith = (parameters: Record<string, string>, operationIds: readonly RouteId[]) =>
  Object.fromEntries(operationIds.map((operationId) => [operationId, { operationId, parameters }]));

/** One Server-Sent Event as an event-stream parser reads it: its name, and its data, JSON of `schema`. */
const sseEvent = (event: string, schema: unknown) => ({
  type: 'object',
  required: ['event', 'data'],
  properties: { event: { const: event }, data: { type: 'string', contentMediaType: 'application/json', contentSchema: schema } },
});

/** Each route's operation; its path, method and security come from its row in routes.ts. */
const OPERATIONS: Record<RouteId, Operation> = {
  'webhooks.receive': {
    summary: 'Receive a signed webhook',
    description: 'Headers `X-Webhook-Timestamp` and `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (default profile).',
    requestBody: { required: true, content: { 'application/json': { schema: {} } } },
    responses: {
      '201': { description: 'Incident created', ...json(ref('Accepted')) },
      '200': { description: 'Duplicate of a stored event', ...json(ref('Accepted')) },
      '202': { description: 'Queued for processing', ...json(ref('Queued')) },
      '400': errorResponse('`invalid_payload`'),
      '401': errorResponse('`invalid_timestamp`, `timestamp_expired`, `invalid_signature`'),
      '404': errorResponse('`unknown_source`: no such source, or one registered with `enabled: false`'),
      '413': errorResponse('`payload_too_large`'),
      '429': errorResponse('`rate_limited` (with Retry-After)'),
      '503': errorResponse('`unavailable` (with Retry-After)'),
    },
  },
  'webhooks.get': {
    summary: 'Show one source (any origin)',
    responses: { '200': { description: 'The source', ...json(ref('Source')) }, '404': errorResponse('`unknown_source`') },
  },
  'webhooks.update': {
    summary: 'Change a source registered through the API; a new secret rotates',
    description: `${beyondTheSchema(REGISTRATION_RULES)}\n\nThey hold for the source as changed.`,
    responses: {
      '200': { description: 'The changed source', ...json(ref('Source')) },
      '404': errorResponse('`unknown_source`'),
      '405': errorResponse('`method_not_allowed` when TW_REGISTRATION_API=false'),
      '409': errorResponse('`conflict`: declared in the file or the cluster'),
    },
  },
  'webhooks.remove': {
    summary: 'Remove a source registered through the API',
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
    description: beyondTheSchema(REGISTRATION_RULES),
    responses: {
      '201': {
        description: 'Registered (the secret is never echoed)',
        ...json(ref('Source')),
        links: linksWith({ source: '$response.body#/source' }, ['webhooks.get', 'webhooks.update', 'webhooks.remove', 'webhooks.test', 'webhooks.receive']),
      },
      '405': errorResponse('`method_not_allowed` when TW_REGISTRATION_API=false'),
      '409': errorResponse('`conflict`: the name is taken (file, cluster or API)'),
      '503': errorResponse('`unavailable`: no TW_ENCRYPTION_KEY (outside development mode), or the store/cluster is down'),
    },
  },
  'webhooks.test': {
    summary: 'Send a signed test event through the real receiver and report the outcome',
    responses: { '200': { description: 'The test ran; `accepted` says how it went', ...json(ref('TestResult')) }, '404': errorResponse('`unknown_source`') },
  },
  'apikeys.list': {
    summary: 'List API keys (never their tokens)',
    responses: { '200': { description: 'Keys', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('ApiKey') } } }) } },
  },
  'audit.list': {
    summary: 'Who changed which API key or registered source, and when, newest first',
    responses: { '200': { description: 'Audit records', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('AuditRecord') } } }) } },
  },
  'apikeys.create': {
    summary: 'Create an API key; the token is in this answer only',
    description: beyondTheSchema(['expires_at is in the future']),
    responses: {
      '201': {
        description: 'Created',
        ...json({ allOf: [ref('ApiKey'), { type: 'object', required: ['token'], properties: { token: { type: 'string', pattern: '^tw_' } } }] }),
      },
    },
  },
  'apikeys.revoke': {
    summary: 'Revoke an API key',
    responses: { '204': { description: 'Revoked' }, '404': errorResponse('`not_found`') },
  },
  'logs.list': {
    summary: 'The delivery log: every webhook request, accepted or rejected, oldest of the tail first',
    responses: {
      '200': {
        description: 'Records, or an event stream with follow=true',
        content: {
          'application/json': { schema: { type: 'object', properties: { items: { type: 'array', items: ref('Delivery') } } } },
          // Each event as an event-stream parser reads it: a Delivery per `delivery`, and `end` when the server closes an idle stream.
          'text/event-stream': {
            schema: {
              oneOf: [
                sseEvent('delivery', ref('Delivery')),
                sseEvent('end', { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } }),
              ],
            },
          },
        },
      },
    },
  },
  'deliveries.list': {
    summary: 'The delivery log, newest first',
    responses: { '200': { description: 'Records', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Delivery') } } }) } },
  },
  'incidents.list': {
    summary: 'Incidents, newest first, keyset-paginated',
    description: beyondTheSchema(["cursor is a page's `next` as this service issued it (it is opaque)"]),
    responses: {
      '200': { description: 'A page', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Incident') }, next: nullable('string') } }) },
    },
  },
  'incidents.get': {
    summary: 'One incident by id or number',
    description: `\`Accept: ${OCSF_MEDIA_TYPE}\` answers the incident as an OCSF ${OCSF_VERSION} Detection Finding (class 2004); the mapping is in docs/normalization.md.`,
    responses: {
      '200': {
        description: 'The incident, with its raw body',
        content: { 'application/json': { schema: ref('Incident') }, [OCSF_MEDIA_TYPE]: { schema: ref('DetectionFinding') } },
      },
      '404': errorResponse('`not_found`'),
    },
  },
  'incidents.acknowledge': statusChangeOperation('acknowledged'),
  'incidents.resolve': statusChangeOperation('resolved'),
  'queue.get': {
    summary: 'A queued delivery',
    responses: { '200': { description: 'The queue entry' }, '404': errorResponse('`not_found`') },
  },
  'triage.list': {
    summary: 'The auto-triage outbox',
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
  'store.renormalize': {
    summary: "Re-run today's normalizers over stored raw bodies (a job); ids, numbers and received times never change",
    description: `The report counts what changed (or, with \`dry_run\`, would) and which fields; see docs/api.md.\n\n${beyondTheSchema([
      'source is served (its settings of today are what is applied)',
      'since is before until',
    ])}`,
    responses: {
      '202': { description: 'Started; follow it at the Location', ...json(ref('Job')) },
      '409': errorResponse('`conflict`: a re-normalization is already running'),
    },
  },
  'jobs.list': {
    summary: 'Admin jobs, newest first',
    responses: { '200': { description: 'Jobs', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Job') } } }) } },
  },
  'jobs.get': {
    summary: 'One admin job: its progress, report and outcome',
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
      Registration: REGISTRATION_BODY,
      RegistrationChange: REGISTRATION_CHANGE_BODY,
      Source: SOURCE_JSON_SCHEMA,
      ApiKey: API_KEY_JSON_SCHEMA,
      AuditRecord: AUDIT_JSON_SCHEMA,
      Delivery: DELIVERY_JSON_SCHEMA,
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
      CreateApiKey: CREATE_API_KEY_BODY,
      IntegrityReport: INTEGRITY_REPORT_JSON_SCHEMA,
      Job: JOB_JSON_SCHEMA,
      Incident: {
        type: 'object',
        description: 'See docs/api.md for the fields',
        properties: { incident_id: { type: 'string' }, incident_number: { type: 'string' } },
      },
      DetectionFinding: {
        type: 'object',
        description: `An OCSF ${OCSF_VERSION} Detection Finding; see docs/normalization.md for the mapping`,
        required: ['class_uid', 'category_uid', 'activity_id', 'type_uid', 'time', 'severity_id', 'metadata', 'finding_info'],
        properties: { class_uid: { const: 2004 }, category_uid: { const: 2 }, type_uid: { const: 200401 }, time: { type: 'integer' } },
      },
    },
  },
  paths: pathsFromRoutes(),
} as const;
