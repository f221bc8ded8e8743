import type { Source } from '../sources/source.js';
import { SOURCE_SPEC_PROPERTIES, fileKey, specOfSource, type InFileKeys, type SourceSpec } from '../sources/source-spec.js';
import { fileFieldsOf } from '../sources/webhook-config.js';

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
