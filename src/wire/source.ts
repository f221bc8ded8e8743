import type { Source } from '../sources/source.js';
import { SOURCE_NAME_MAX_LENGTH, SOURCE_NAME_PATTERN } from '../sources/source-spec.js';
import { SOURCE_SPEC_PROPERTIES, fileKey, specOfSource, toSource, type InFileKeys, type SourceSpec } from '../sources/source-spec.js';
import { FILE_SOURCE_SCHEMA, fileFieldsOf } from '../sources/webhook-config.js';

/** Every spec field in the API's key names; the ones a source leaves unset are null. */
type ServedFields = { [K in keyof InFileKeys<SourceSpec>]-?: Exclude<InFileKeys<SourceSpec>[K], undefined> | null };

const UNSET = Object.fromEntries(Object.keys(SOURCE_SPEC_PROPERTIES).map((key) => [fileKey(key), null])) as ServedFields;

/** A source as the API shows it: the config file's keys (the spec's, through the one key mapping), never a secret (only how many are active). */
export function sourceJson(source: Source) {
  return {
    source: source.name,
    origin: source.origin,
    webhook_path: `/api/webhooks/${source.name}`,
    ...UNSET,
    ...fileFieldsOf(specOfSource(source)),
    /** 2 while a rotated-out secret is still accepted. */
    active_secrets: source.secrets.length,
  };
}

export type SourceJson = ReturnType<typeof sourceJson>;

/**
 * The schema of sourceJson (the OpenAPI document's `Source`): the config file's schema of every spec field,
 * or null where a source may leave it unset (what a source of an empty spec does not set).
 */
export const SOURCE_JSON_SCHEMA = (() => {
  const { secret: _secret, previous_secret: _previousSecret, ...fields } = (FILE_SOURCE_SCHEMA as { properties: Record<string, object> }).properties;
  const alwaysSet = fileFieldsOf(specOfSource(toSource({ name: 'any', origin: 'api', spec: {}, secrets: [] })));
  return {
    type: 'object',
    properties: {
      source: { type: 'string', pattern: SOURCE_NAME_PATTERN, maxLength: SOURCE_NAME_MAX_LENGTH },
      origin: { type: 'string', description: '`api`, `file:<path>` or `kubernetes:<namespace>/<name>`' },
      webhook_path: { type: 'string' },
      ...Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, key in alwaysSet ? schema : { anyOf: [schema, { type: 'null' }] }])),
      active_secrets: { type: 'integer', description: '2 while a rotated-out secret is still accepted; secrets themselves are never shown' },
    },
  };
})();
