import type { Format, IncidentDraft } from '../incidents/model.js';
import type { Source } from '../sources/source.js';
import type { Result } from '../core/result.js';

/** A normalizer is pure: parsed JSON + the source in, a draft or a human-readable reason out. */
type Normalizer = (payload: unknown, source: Source) => Result<IncidentDraft, string>;

export interface FormatModule {
  format: Format;
  /**
   * Goes up by one with every change to what this module makes of a payload (docs/normalization.md,
   * "Normalizer versions"): each incident records the version that built it, and re-normalization
   * can tell which incidents an older one built.
   */
  version: number;
  /** Structural detection: true when the payload has this vendor's shape. */
  detect(payload: Record<string, unknown>): boolean;
  normalize: Normalizer;
}
