import type { Format } from '../incidents/model.js';
import { crowdstrike } from './crowdstrike.js';
import { defender } from './defender.js';
import { generic } from './generic.js';
import { splunk } from './splunk.js';
import type { FormatModule } from './types.js';
import type { JsonObject } from './fields.js';

/**
 * Most specific shape first: Falcon's `metadata`+`event` envelope, then Splunk's `search_name`,
 * then Microsoft's field sets (loose enough that they would match the others), generic last.
 */
const DETECTION_ORDER: readonly FormatModule[] = [crowdstrike, splunk, defender, generic];

export const FORMAT_MODULES: Readonly<Record<Format, FormatModule>> = { crowdstrike, splunk, defender, generic };

/** The module whose shape the payload has; generic when none does. */
export function detectFormat(payload: JsonObject): FormatModule {
  return DETECTION_ORDER.find((module) => module.detect(payload)) ?? generic;
}
