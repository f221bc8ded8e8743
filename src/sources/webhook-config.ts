import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { err, ok, type Result } from '../core/result.js';
import type { Source } from './source.js';
import {
  SOURCE_NAME_MAX_LENGTH,
  SOURCE_NAME_PATTERN,
  SOURCE_SPEC_PROPERTIES,
  brokenRules,
  fileKeys,
  filterProblems,
  toSource,
  type InFileKeys,
  type SourceSpec,
  type SpecSchema,
} from './source-spec.js';
import { expandVariables } from '../config/expand-variables.js';

/** One source of webhook_config.yaml after validation, as the user wrote it (snake_case, string secrets). */
export type FileSource = Record<string, unknown> & { secret: string; previous_secret?: string };

interface FileConfig {
  sources: Record<string, FileSource> | null;
}

const nonEmptyString = { type: 'string', minLength: 1 } as const;

/** A spec field's schema in the file's key names; the file also rejects keys it does not know. */
function inFileKeys(schema: SpecSchema): object {
  const { properties, required, ...rest } = schema;
  if (!properties) return rest;
  return {
    ...rest,
    additionalProperties: false,
    ...(required && { required: required.map(fileKeys) }),
    properties: Object.fromEntries(Object.entries(properties).map(([key, field]) => [fileKeys(key), inFileKeys(field)])),
  };
}

/** webhook_config.yaml's schema of one source, derived from the one source spec. */
export const FILE_SOURCE_SCHEMA = inFileKeys({
  type: 'object',
  required: ['secret'],
  properties: {
    secret: { ...nonEmptyString, description: 'The shared secret; reference the environment as "${VAR}".' },
    previous_secret: { ...nonEmptyString, description: 'The secret being rotated out; both are accepted until it is removed.' },
    ...SOURCE_SPEC_PROPERTIES,
    // `suspend` reads `enabled` in the file, worded the other way round (fileKey).
    suspend: { type: 'boolean', description: 'false answers 404 unknown_source without removing the source.', default: true },
  },
});

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sources'],
  properties: {
    sources: {
      type: ['object', 'null'],
      propertyNames: { pattern: SOURCE_NAME_PATTERN, maxLength: SOURCE_NAME_MAX_LENGTH },
      additionalProperties: FILE_SOURCE_SCHEMA,
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<FileConfig>(configSchema);

/**
 * Parses webhook_config.yaml exactly as the spec shows it (`sources: { <name>: { secret,
 * auto_triage, playbook, severity_mapping } }`) plus the other fields of the source spec in
 * snake_case. `${VAR}` is expanded in string values from `env`; numbers and booleans are YAML
 * literals. An empty file declares no sources. Every problem is reported at once, prefixed by
 * `origin`, without secret values.
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
  for (const [name, fileSource] of Object.entries(config.sources ?? {})) {
    const spec = specOf(fileSource);
    const broken = [...brokenRules(spec, fileKeys), ...filterProblems(spec, fileKeys)];
    if (broken.length > 0) problems.push(...broken.map((problem) => `sources.${name}.${problem}`));
    else {
      const secrets = [fileSource.secret, fileSource.previous_secret].filter((secret) => secret !== undefined);
      sources.push(toSource({ name, origin, spec, secrets: secrets.map((secret) => Buffer.from(secret, 'utf8')) }));
    }
  }
  return problems.length > 0 ? fail(problems) : ok(sources);
}

/** The camelCase spec of a validated file source (or API body), through the one key mapping. */
export function specOf(fileSource: Record<string, unknown>): SourceSpec {
  const spec = renamed(fileSource, SOURCE_SPEC_PROPERTIES, (key) => [fileKeys(key), key]) as SourceSpec;
  // The file's `enabled` is `suspend` worded the other way round.
  if (spec.suspend !== undefined) spec.suspend = !spec.suspend;
  return spec;
}

/** A spec in the file's and the API's snake_case keys: `specOf` the other way. Unset fields are left out. */
export function fileFieldsOf(spec: SourceSpec): InFileKeys<SourceSpec> {
  const fields = renamed({ ...spec, ...(spec.suspend !== undefined && { suspend: !spec.suspend }) }, SOURCE_SPEC_PROPERTIES, (key) => [key, fileKeys(key)]);
  return fields as InFileKeys<SourceSpec>;
}

/** The spec's fields of `value`, each read under `from(key)` and written under `to(key)`, nested objects alike. */
function renamed(
  value: Record<string, unknown>,
  properties: Readonly<Record<string, SpecSchema>>,
  names: (key: string) => [string, string],
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(properties)) {
    const [from, to] = names(key);
    const field = value[from];
    if (field === undefined) continue;
    result[to] = schema.properties ? renamed(field as Record<string, unknown>, schema.properties, names) : field;
  }
  return result;
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
        problems.add(`${where}: source name '${String(error.params.propertyName)}' must be a DNS label (a-z, 0-9 and '-', at most 63 characters)`);
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
