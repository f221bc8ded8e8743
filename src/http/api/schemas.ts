import { FORMATS, INCIDENT_STATUSES, SEVERITIES } from '../../incidents/model.js';
import { SCOPES } from '../../apikeys/api-key.js';
import { JOB_KINDS } from '../../jobs/job.js';
import { SOURCE_NAME_MAX_LENGTH, SOURCE_NAME_PATTERN } from '../../sources/source-spec.js';
import { FILE_SOURCE_SCHEMA } from '../../sources/webhook-config.js';

/*
 * What the /api routes take, as JSON Schemas: the route table (routes.ts) hangs each on its row,
 * the routes validate with them (validation.ts) and the OpenAPI document is built from them.
 */

/** JSON Schemas of a route's query parameters, by name: every value arrives as text and is coerced. */
export type QueryProperties = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** A page size parameter from 1 to `max`. */
const limitParameter = (fallback: number, max: number) => ({ type: 'integer', minimum: 1, maximum: max, default: fallback });
/** Source names as query values: any registered name, or `_unknown` in the delivery log. */
const sourceParameter = { type: 'string', maxLength: 253 };

export const SOURCE_NAME = { type: 'string', pattern: SOURCE_NAME_PATTERN, maxLength: SOURCE_NAME_MAX_LENGTH } as const;

export const INCIDENTS_QUERY = {
  limit: limitParameter(50, 500),
  source: sourceParameter,
  severity: { type: 'string', enum: SEVERITIES },
  status: { type: 'string', enum: INCIDENT_STATUSES },
  test: { type: 'boolean', description: 'true: only the incidents of test events; false: none of them; both when absent' },
  since: { type: 'string', format: 'date-time' },
  until: { type: 'string', format: 'date-time' },
  cursor: { type: 'string', maxLength: 1024 },
} as const satisfies QueryProperties;

export const DELIVERIES_QUERY = { source: sourceParameter, limit: limitParameter(100, 1000) } as const satisfies QueryProperties;

/** `webhook` is the only log kept: the filter is there so scripts written against it keep working. */
export const LOGS_QUERY = {
  filter: { enum: ['webhook'], default: 'webhook' },
  source: sourceParameter,
  tail: limitParameter(100, 1000),
  follow: {
    type: 'boolean',
    default: false,
    description: 'Stream as Server-Sent Events (`event: delivery` with JSON data; `event: end` closes an idle stream)',
  },
} as const satisfies QueryProperties;

export const AUDIT_QUERY = {
  limit: limitParameter(100, 1000),
  target: { type: 'string', maxLength: 253, description: 'One API key id or source name' },
} as const satisfies QueryProperties;

export const TRIAGE_STATES = ['pending', 'dispatched', 'failed'] as const;
export const TRIAGE_QUERY = {
  state: { type: 'string', enum: TRIAGE_STATES, default: 'pending' },
  limit: limitParameter(50, 500),
} as const satisfies QueryProperties;

/** `POST /api/store/renormalize`: which incidents, and whether to write; `dry_run` is required, so no run writes by omission. */
export const RENORMALIZE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['dry_run'],
  properties: {
    source: { ...SOURCE_NAME, description: "Only this source's incidents; it must be served (its settings of today are what is applied)" },
    format: { type: 'string', enum: FORMATS, description: 'Only incidents stored in this format' },
    since: { type: 'string', format: 'date-time', description: 'Received at or after this time' },
    until: { type: 'string', format: 'date-time', description: 'Received before this time' },
    dry_run: { type: 'boolean', description: 'Count what would change, and which fields, without writing' },
    requeue_triage: { type: 'boolean', default: false, description: 'Queue the incidents that change for triage again' },
  },
} as const;

export const JOBS_QUERY = { kind: { type: 'string', enum: JOB_KINDS }, limit: limitParameter(20, 100) } as const satisfies QueryProperties;

// The registration API takes a source exactly as webhook_config.yaml declares one (same keys and bounds).
const {
  secret: secretSchema,
  previous_secret: previousSecretSchema,
  ...specProperties
} = (FILE_SOURCE_SCHEMA as { properties: Record<string, object> }).properties;

/** `POST /api/webhooks`: the spec's body (`source`, `secret`, `auto_triage`, `playbook`) plus the config file's optional keys. */
export const REGISTRATION_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'secret'],
  properties: {
    source: SOURCE_NAME,
    secret: secretSchema,
    previous_secret: previousSecretSchema,
    ...specProperties,
  },
} as const;

const mappingSchema = specProperties.severity_mapping as { additionalProperties: object };

/**
 * `PATCH /api/webhooks/:source`: any of the keys; a new `secret` rotates (the old one stays valid
 * for the grace period). `severity_mapping` is merged into the current map, as a JSON merge patch
 * (RFC 7396) merges objects: a key set to null is removed.
 */
export const REGISTRATION_CHANGE_BODY = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    secret: secretSchema,
    ...specProperties,
    severity_mapping: { ...mappingSchema, additionalProperties: { anyOf: [mappingSchema.additionalProperties, { type: 'null' }] } },
  },
} as const;

/** `POST /api/incidents/:id/acknowledge|resolve`: an optional note for whoever reads the incident next. */
export const STATUS_CHANGE_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 1000 } },
} as const;

export const CREATE_API_KEY_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    scopes: { type: 'array', minItems: 1, items: { enum: SCOPES } },
    expires_at: { type: 'string', format: 'date-time' },
    expires_in_days: { type: 'integer', minimum: 1, maximum: 3650 },
  },
  not: { required: ['expires_at', 'expires_in_days'] },
} as const;
