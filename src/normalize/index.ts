import type { Format, IncidentDraft } from '../incidents/model.js';
import { draftValidationError } from '../incidents/schema.js';
import { err, type Result } from '../core/result.js';
import type { Source } from '../sources/source.js';
import { detectFormat, FORMAT_MODULES } from './detect.js';
import { isObject } from './fields.js';

/** The version of today's normalizer of `format`, recorded on the incidents it builds. */
export function normalizerVersion(format: Format): number {
  return FORMAT_MODULES[format].version;
}

/**
 * A parsed payload → a validated incident draft, with the source's pinned format or the detected
 * one. Pure: the source carries everything (format, severity mapping) it depends on.
 */
export function normalize(payload: unknown, source: Source): Result<IncidentDraft, string> {
  if (!isObject(payload)) return err('payload must be a JSON object');
  const module = source.format === undefined ? detectFormat(payload) : FORMAT_MODULES[source.format];
  const draft = module.normalize(payload, source);
  if (!draft.ok) return draft;
  const invalid = draftValidationError(draft.value);
  return invalid === undefined ? draft : err(`normalized ${module.format} incident is invalid: ${invalid}`);
}
