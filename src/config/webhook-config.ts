import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { FORMATS, SEVERITIES, type Format, type Severity } from '../incidents/model.js';
import { err, ok, type Result } from '../core/result.js';
import { SOURCE_DEFAULTS, VERIFICATION_PROFILES, type Source, type VerificationProfile } from '../sources/source.js';
import { expandVariables } from './expand-variables.js';

/** webhook_config.yaml after validation, as the user wrote it (snake_case keys, string secrets). */
export interface RawSource {
  secret: string;
  previous_secret?: string;
  auto_triage?: boolean;
  playbook?: string;
  severity_mapping?: Record<string, Severity>;
  format?: Format;
  verification?: VerificationProfile;
  tolerance_seconds?: number;
  max_body_bytes?: number;
  rate_limit?: { requests_per_second: number; burst?: number };
  processing?: 'sync' | 'async';
  enabled?: boolean;
}

interface RawConfig {
  sources: Record<string, RawSource> | null;
}

/** Kubernetes-style names: they appear in URLs, metric labels and object names alike. */
export const SOURCE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const nonEmptyString = { type: 'string', minLength: 1 } as const;

/** One source's keys; the registration API takes the same (src/http/api/webhooks.ts). */
export const sourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['secret'],
  properties: {
    secret: nonEmptyString,
    previous_secret: nonEmptyString,
    auto_triage: { type: 'boolean' },
    playbook: nonEmptyString,
    severity_mapping: { type: 'object', additionalProperties: { enum: SEVERITIES } },
    format: { enum: FORMATS },
    verification: { enum: VERIFICATION_PROFILES },
    tolerance_seconds: { type: 'integer', minimum: 1, maximum: 86_400 },
    max_body_bytes: { type: 'integer', minimum: 1, maximum: 64 * 1024 * 1024 },
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      required: ['requests_per_second'],
      properties: {
        requests_per_second: { type: 'number', exclusiveMinimum: 0 },
        burst: { type: 'integer', minimum: 1 },
      },
    },
    processing: { enum: ['sync', 'async'] },
    enabled: { type: 'boolean' },
  },
  // Auto-triage without a playbook would silently triage nothing.
  if: { properties: { auto_triage: { const: true } }, required: ['auto_triage'] },
  then: { required: ['playbook'] },
} as const;

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sources'],
  properties: {
    sources: {
      type: ['object', 'null'],
      propertyNames: { pattern: SOURCE_NAME.source },
      additionalProperties: sourceSchema,
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<RawConfig>(configSchema);

/**
 * Parses webhook_config.yaml exactly as the spec shows it (`sources: { <name>: { secret,
 * auto_triage, playbook, severity_mapping } }`) plus our optional keys. `${VAR}` is expanded in
 * string values from `env`; numbers and booleans are YAML literals. An empty file declares no
 * sources. Every problem is reported at once, prefixed by `origin`, without secret values.
 */
export function parseWebhookConfig(text: string, env: NodeJS.ProcessEnv, origin: string): Result<Source[], string> {
  const fail = (problems: readonly string[]) => err(`${origin}: ${problems.join('; ')}`);

  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  // Pretty errors end their first line with "at line L, column C:" and then quote the YAML; keep the first line.
  if (document.errors.length > 0) return fail(document.errors.map(({ message }) => message.split('\n', 1)[0]!.replace(/:$/, '')));
  const parsed: unknown = document.toJS({ maxAliasCount: 100 }) ?? { sources: null };

  const expanded = expandVariables(parsed, env);
  if (!expanded.ok) return fail(expanded.error);
  const config = expanded.value;
  if (!validate(config)) return fail(describeSchemaErrors(validate.errors ?? []));

  const sources: Source[] = [];
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(config.sources ?? {})) {
    const source = sourceFromRaw(name, raw, origin);
    if (!source.ok) problems.push(`sources.${name}.${source.error}`);
    else sources.push(source.value);
  }
  return problems.length > 0 ? fail(problems) : ok(sources);
}

/** A validated entry as a Source; the one problem schemas cannot see is an ambiguous severity mapping. */
export function sourceFromRaw(name: string, raw: RawSource, origin: string): Result<Source, string> {
  const severityMapping = lowerCaseKeys(raw.severity_mapping ?? {});
  return severityMapping.ok ? ok(toSource(name, raw, severityMapping.value, origin)) : err(`severity_mapping: ${severityMapping.error}`);
}

function toSource(name: string, raw: RawSource, severityMapping: Record<string, Severity>, origin: string): Source {
  const secrets = [raw.secret, raw.previous_secret].filter((secret) => secret !== undefined);
  return {
    name,
    secrets: secrets.map((secret) => Buffer.from(secret, 'utf8')),
    verification: raw.verification ?? SOURCE_DEFAULTS.verification,
    format: raw.format,
    autoTriage: raw.auto_triage ?? false,
    playbook: raw.playbook,
    severityMapping,
    toleranceSeconds: raw.tolerance_seconds ?? SOURCE_DEFAULTS.toleranceSeconds,
    maxBodyBytes: raw.max_body_bytes ?? SOURCE_DEFAULTS.maxBodyBytes,
    rateLimit: raw.rate_limit && {
      requestsPerSecond: raw.rate_limit.requests_per_second,
      burst: raw.rate_limit.burst ?? Math.max(1, Math.ceil(raw.rate_limit.requests_per_second)),
    },
    processing: raw.processing ?? SOURCE_DEFAULTS.processing,
    enabled: raw.enabled ?? true,
    origin,
  };
}

/** Vendor severities are matched lower-cased; `High` and `high` mapped differently is ambiguous. */
function lowerCaseKeys(mapping: Record<string, Severity>): Result<Record<string, Severity>, string> {
  const lowered = new Map<string, Severity>();
  for (const [key, severity] of Object.entries(mapping)) {
    const vendor = key.toLowerCase();
    const previous = lowered.get(vendor);
    if (previous !== undefined && previous !== severity) return err(`'${key}' is mapped twice, to ${previous} and ${severity}`);
    lowered.set(vendor, severity);
  }
  return ok(Object.fromEntries(lowered));
}

function describeSchemaErrors(errors: readonly ErrorObject[]): string[] {
  const problems = new Set<string>();
  for (const error of errors) {
    const where = error.instancePath.split('/').slice(1).map(unescapePointer).join('.') || 'the document';
    switch (error.keyword) {
      case 'additionalProperties':
        problems.add(`${where}: unknown key '${String(error.params.additionalProperty)}'`);
        break;
      case 'propertyNames':
        problems.add(
          `${where}: source name '${String(error.params.propertyName)}' must be a DNS label (a-z, 0-9 and '-', at most 63 characters)`,
        );
        break;
      case 'required':
        problems.add(`${where}: missing '${String(error.params.missingProperty)}'`);
        break;
      case 'enum':
        problems.add(`${where} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`);
        break;
      case 'type':
        problems.add(`${where} must be ${String(error.params.type).replace(',', ' or ')}`);
        break;
      case 'if':
        break; // the `then` branch's own error says what is missing
      default:
        // The name pattern error duplicates the propertyNames one above.
        if (error.propertyName === undefined) problems.add(`${where} ${error.message ?? 'is invalid'}`);
    }
  }
  return [...problems];
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}
