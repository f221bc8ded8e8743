import { FORMATS, SEVERITIES, type Format, type Severity } from '../incidents/model.js';
import { LABEL_NAME_PATTERN, MAX_LABEL_NAME_LENGTH, MAX_LABELS } from '../incidents/schema.js';
import { compileFilter, type CompiledFilter, type FilterSpec } from '../filters/filter.js';
import { VERIFICATION_PROFILES, type Source, type VerificationProfile } from './source.js';
import { MAX_RETENTION_DAYS } from '../config/data-settings.js';

/**
 * The one definition of what a source declares (docs/sources.md). It is written in the CRD's
 * camelCase; webhook_config.yaml's validation (snake_case, inline secrets) and the WebhookSource
 * CRD's `spec` schema (secretRef, CEL rules) are both derived from it, and `toSource` turns a
 * spec from either provider into the `Source` the hot path reads, with the defaults below.
 */
export interface SourceSpec {
  format?: Format;
  verification?: VerificationProfile;
  autoTriage?: boolean;
  playbook?: string;
  severityMapping?: Readonly<Record<string, Severity>>;
  toleranceSeconds?: number;
  maxBodyBytes?: number;
  rateLimit?: { requestsPerSecond: number; burst?: number };
  processing?: Source['processing'];
  filter?: FilterSpec;
  suspend?: boolean;
  retentionDays?: number;
  rawBodyRetentionDays?: number;
}

const PROCESSING_MODES = ['sync', 'async'] as const satisfies readonly Source['processing'][];

/** What an unset field means. The CRD carries the same values as schema defaults. */
export const SOURCE_DEFAULTS = {
  verification: 'hmac-sha256',
  autoTriage: false,
  toleranceSeconds: 300,
  maxBodyBytes: 1024 * 1024,
  processing: 'sync',
  suspend: false,
} as const satisfies SourceSpec;

/** Source names are DNS labels: they appear in URLs, metric labels and Kubernetes object names alike. */
export const SOURCE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const SOURCE_NAME_MAX_LENGTH = 63;

/** A JSON Schema subset valid both for Ajv and for a Kubernetes structural schema. */
export interface SpecSchema {
  type: 'object' | 'string' | 'integer' | 'boolean';
  description?: string;
  enum?: readonly string[];
  default?: string | number | boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minProperties?: number;
  maxProperties?: number;
  required?: readonly string[];
  properties?: Readonly<Record<string, SpecSchema>>;
  additionalProperties?: SpecSchema;
}

/** A CEL expression's text; its cost is bounded after parsing (filters/bounds.ts), its length here. */
const celExpression = (description: string) => ({ type: 'string', description, minLength: 1, maxLength: 2048 }) as const;

/**
 * Every field with its bounds, default and meaning. Bounds are chosen once here: tolerance
 * 30 s–1 h (a shorter window rejects honest senders with skewed clocks, a longer one widens the
 * replay window), body 1 KiB–10 MiB (alerts are small; the limit is checked before verification),
 * integer rates 1–10,000/s with a burst of at least the rate.
 */
export const SOURCE_SPEC_PROPERTIES = {
  format: {
    type: 'string',
    description: "The payload format; unset means detected from each payload's shape.",
    enum: FORMATS,
  },
  verification: {
    type: 'string',
    description:
      'How requests are authenticated: hmac-sha256 (X-Webhook-Timestamp + X-Webhook-Signature over "<timestamp>.<body>"), ' +
      'standard-webhooks (webhook-id, webhook-timestamp, webhook-signature), hmac-body (X-Hub-Signature-256 style), ' +
      'or token (a shared token in a header or the query, for senders that cannot sign).',
    enum: VERIFICATION_PROFILES,
    default: SOURCE_DEFAULTS.verification,
  },
  autoTriage: {
    type: 'boolean',
    description: 'Queue every new incident from this source for the playbook runner.',
    default: SOURCE_DEFAULTS.autoTriage,
  },
  playbook: {
    type: 'string',
    description: "The playbook the runner executes for this source's incidents; required with autoTriage.",
    minLength: 1,
    maxLength: 253,
  },
  severityMapping: {
    type: 'object',
    description:
      "The vendor's severity value to an incident severity, consulted before the built-in table. " +
      'Keys are lower-case: vendor values are lower-cased before the lookup.',
    maxProperties: 64,
    additionalProperties: { type: 'string', enum: SEVERITIES },
  },
  toleranceSeconds: {
    type: 'integer',
    description: "How far a request's timestamp may lie in the past or the future.",
    minimum: 30,
    maximum: 3600,
    default: SOURCE_DEFAULTS.toleranceSeconds,
  },
  maxBodyBytes: {
    type: 'integer',
    description: 'Requests with a larger body are refused with 413 before they are verified.',
    minimum: 1024,
    maximum: 10 * 1024 * 1024,
    default: SOURCE_DEFAULTS.maxBodyBytes,
  },
  rateLimit: {
    type: 'object',
    description: 'Authenticated requests per second for this source (a token bucket); unset means unlimited.',
    required: ['requestsPerSecond'],
    properties: {
      requestsPerSecond: { type: 'integer', description: 'The sustained rate.', minimum: 1, maximum: 10_000 },
      burst: {
        type: 'integer',
        description: 'Requests allowed at once; at least requestsPerSecond, which is also the default.',
        minimum: 1,
        maximum: 100_000,
      },
    },
  },
  processing: {
    type: 'string',
    description: 'sync answers 201 once the incident is stored; async answers 202 once the raw event is durably queued and normalizes it afterwards.',
    enum: PROCESSING_MODES,
    default: SOURCE_DEFAULTS.processing,
  },
  filter: {
    type: 'object',
    description:
      'CEL expressions over payload (the parsed body) and incident (the normalized incident, as the read API names its fields), ' +
      'compiled when the source is loaded and refused there when their cost is not bounded (docs/filters.md).',
    minProperties: 1,
    properties: {
      match: celExpression('Events for which this is false are answered 200 {"status":"filtered"}, counted and logged, and not stored.'),
      severity: celExpression("The incident's severity: an expression yielding critical, high, medium, low or info."),
      labels: {
        type: 'object',
        description: `Labels to add to the incident: a name (a DNS label of at most ${MAX_LABEL_NAME_LENGTH} characters) → an expression yielding its value.`,
        maxProperties: MAX_LABELS,
        additionalProperties: celExpression('An expression yielding the label value (a string, number or bool).'),
      },
    },
  },
  suspend: {
    type: 'boolean',
    description: 'Answer 404 unknown_source for this source without deleting it.',
    default: SOURCE_DEFAULTS.suspend,
  },
  retentionDays: {
    type: 'integer',
    description:
      "Days this source's incidents are kept (by received time), instead of TW_RETENTION_DAYS; 0 keeps them for good. " +
      'One still waiting for triage is kept until it has been handed over.',
    minimum: 0,
    maximum: MAX_RETENTION_DAYS,
  },
  rawBodyRetentionDays: {
    type: 'integer',
    description:
      "Days this source's raw request bodies are kept, instead of TW_RAW_BODY_RETENTION_DAYS; 0 keeps them as long as the incident, " +
      'and more than retentionDays is refused. ' +
      'After that the incident stays, with raw null (and it can no longer be re-normalized).',
    minimum: 0,
    maximum: MAX_RETENTION_DAYS,
  },
} as const satisfies Record<keyof SourceSpec, SpecSchema>;

/**
 * The one mapping between the CRD's camelCase and the snake_case of webhook_config.yaml and the
 * API's JSON: a key in snake_case (`maxBodyBytes` → `max_body_bytes`), except `suspend`, the one
 * field the file and the API word the other way round: they keep the spec's `enabled` (`enabled:
 * false` is `suspend: true`), so there is a single way to say it in each format. Secrets are not
 * spec fields: the file has them inline (`secret`, `previous_secret`), the CRD references them
 * (`secretRef{name,key,previousKey}`); both end as `Source.secrets`.
 */
export function fileKey(key: string): string {
  return key === 'suspend' ? 'enabled' : key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;
type FileKey<K extends string> = K extends 'suspend' ? 'enabled' : SnakeCase<K>;
/** A spec-shaped type in the file's and the API's key names (`fileKey` at the type level). */
export type InFileKeys<T> = { [K in keyof T & string as FileKey<K>]: T[K] extends string | number | boolean | undefined ? T[K] : InFileKeys<T[K]> };

/** How a format names a field given by its camelCase path, e.g. `rateLimit.burst`. */
export type KeyNames = (camelPath: string) => string;
export const crdKeys: KeyNames = (path) => path;
export const fileKeys: KeyNames = (path) => path.split('.').map(fileKey).join('.');

/**
 * A rule across fields that a schema's bounds cannot say. The CRD states it in CEL (the API server
 * rejects a violation at apply time); the file check runs `holds` on the camelCase spec. Both give
 * the same message in their own key names, and one table of test cases checks both.
 */
export interface SpecRule {
  /** The field the CEL rule is attached to; `self` in `cel` is that field. Empty: the spec itself. */
  at: '' | 'rateLimit' | 'severityMapping' | 'filter';
  cel: string;
  holds: (spec: SourceSpec) => boolean;
  message: (keys: KeyNames) => string;
}

export const SPEC_RULES: readonly SpecRule[] = [
  {
    // Auto-triage without a playbook would silently triage nothing.
    at: '',
    cel: '!has(self.autoTriage) || !self.autoTriage || has(self.playbook)',
    holds: (spec) => spec.autoTriage !== true || spec.playbook !== undefined,
    message: (keys) => `${keys('playbook')} is required when ${keys('autoTriage')} is true`,
  },
  {
    at: 'rateLimit',
    cel: '!has(self.burst) || self.burst >= self.requestsPerSecond',
    holds: ({ rateLimit }) => rateLimit?.burst === undefined || rateLimit.burst >= rateLimit.requestsPerSecond,
    message: (keys) => `${keys('rateLimit.burst')} must be at least ${keys('rateLimit.requestsPerSecond')}`,
  },
  {
    // A raw body cannot outlive its incident; a longer setting would only mislead.
    at: '',
    cel: '!has(self.rawBodyRetentionDays) || !has(self.retentionDays) || self.retentionDays == 0 || self.rawBodyRetentionDays <= self.retentionDays',
    holds: ({ retentionDays, rawBodyRetentionDays }) => !rawBodyRetentionDays || !retentionDays || rawBodyRetentionDays <= retentionDays,
    message: (keys) => `${keys('rawBodyRetentionDays')} must not exceed ${keys('retentionDays')}`,
  },
  {
    // Lower-case only, never folded: `High` and `high` mapped two ways would be ambiguous.
    at: 'severityMapping',
    cel: 'self.all(vendorValue, vendorValue == vendorValue.lowerAscii())',
    holds: ({ severityMapping }) => Object.keys(severityMapping ?? {}).every((vendorValue) => !/[A-Z]/.test(vendorValue)),
    message: (keys) => `${keys('severityMapping')} keys must be lower-case; vendor values are lower-cased before lookup`,
  },
  {
    // Label names become keys of the stored incident and of the read API's JSON.
    at: 'filter',
    cel: `!has(self.labels) || self.labels.all(name, size(name) <= ${MAX_LABEL_NAME_LENGTH} && name.matches('${LABEL_NAME_PATTERN}'))`,
    holds: ({ filter }) => Object.keys(filter?.labels ?? {}).every((name) => name.length <= MAX_LABEL_NAME_LENGTH && new RegExp(LABEL_NAME_PATTERN).test(name)),
    message: (keys) => `${keys('filter.labels')} names must be DNS labels (a-z, 0-9, '-' and '_', at most ${MAX_LABEL_NAME_LENGTH} characters)`,
  },
];

/** The messages of the rules `spec` breaks, in the key names of its format. */
export function brokenRules(spec: SourceSpec, keys: KeyNames): string[] {
  return SPEC_RULES.filter((rule) => !rule.holds(spec)).map((rule) => rule.message(keys));
}

/** Why each of the filter's expressions that does not compile is refused, in the key names of the format (`filter.match: …`). */
export function filterProblems(spec: SourceSpec, keys: KeyNames): string[] {
  if (!spec.filter) return [];
  const compiled = compileFilter(spec.filter);
  return compiled.ok ? [] : compiled.error.map(({ at, message }) => `${keys(`filter.${at}`)}: ${message}`);
}

/** A source as a provider read it, before defaults. */
export interface SourceDeclaration {
  /** The effective source name (the URL segment). */
  name: string;
  /** Where it was declared, e.g. `file:/etc/tw/webhook_config.yaml` or `kubernetes:ns/name`. */
  origin: string;
  /** A spec that passed the schema, `SPEC_RULES` and `filterProblems`; extra fields (sourceName, secretRef) are ignored. */
  spec: SourceSpec;
  /** Resolved secret values, the current one first, then the one being rotated out. */
  secrets: readonly Buffer[];
}

/** The one mapping from a declared spec to the `Source` the hot path reads, with defaults applied (`specOfSource` is its inverse). */
export function toSource({ name, origin, spec, secrets }: SourceDeclaration): Source {
  return {
    name,
    secrets,
    verification: spec.verification ?? SOURCE_DEFAULTS.verification,
    format: spec.format,
    autoTriage: spec.autoTriage ?? SOURCE_DEFAULTS.autoTriage,
    playbook: spec.playbook,
    severityMapping: spec.severityMapping ?? {},
    toleranceSeconds: spec.toleranceSeconds ?? SOURCE_DEFAULTS.toleranceSeconds,
    maxBodyBytes: spec.maxBodyBytes ?? SOURCE_DEFAULTS.maxBodyBytes,
    rateLimit: spec.rateLimit && {
      requestsPerSecond: spec.rateLimit.requestsPerSecond,
      burst: spec.rateLimit.burst ?? spec.rateLimit.requestsPerSecond,
    },
    processing: spec.processing ?? SOURCE_DEFAULTS.processing,
    filter: spec.filter && compiled(spec.filter),
    enabled: !(spec.suspend ?? SOURCE_DEFAULTS.suspend),
    retentionDays: spec.retentionDays,
    rawBodyRetentionDays: spec.rawBodyRetentionDays,
    origin,
  };
}

/** A filter that passed `filterProblems` (compiled once: compilation is cached by expression). */
function compiled(filter: FilterSpec): CompiledFilter {
  const result = compileFilter(filter);
  if (!result.ok) throw new Error(`a filter that does not compile reached toSource: ${result.error.map((problem) => problem.message).join('; ')}`);
  return result.value;
}

/** The spec a served source amounts to, defaults applied: what the API shows of it. Unset fields stay undefined. */
export function specOfSource(source: Source): SourceSpec {
  return {
    format: source.format,
    verification: source.verification,
    autoTriage: source.autoTriage,
    playbook: source.playbook,
    severityMapping: source.severityMapping,
    toleranceSeconds: source.toleranceSeconds,
    maxBodyBytes: source.maxBodyBytes,
    rateLimit: source.rateLimit,
    processing: source.processing,
    filter: source.filter?.spec,
    suspend: !source.enabled,
    retentionDays: source.retentionDays,
    rawBodyRetentionDays: source.rawBodyRetentionDays,
  };
}
