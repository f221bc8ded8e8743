import type { Severity } from '../incidents/model.js';
import { MAX_VENDOR_SEVERITY_LENGTH } from '../incidents/schema.js';
import { scalarText } from './fields.js';

/**
 * An alert whose severity we cannot read is still an alert someone should look at: neither
 * paged as critical nor filed as info. Sources map their own values with `severity_mapping`.
 */
const UNKNOWN_SEVERITY: Severity = 'medium';

/** A vendor's own table, e.g. CrowdStrike's 1–5 scale; undefined when the value is not on it. */
export type SeverityTable = (key: string) => Severity | undefined;

/** Words every vendor uses. Graph's `unknown` means "not set by the provider": informational. */
const WORDS: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  moderate: 'medium',
  low: 'low',
  info: 'info',
  informational: 'info',
  information: 'info',
  unknown: 'info',
};

export interface MappedSeverity {
  severity: Severity;
  /** The vendor's value as text, e.g. "4" or "High"; null when the payload has none. */
  vendorSeverity: string | null;
}

/** The source's mapping first (lower-cased vendor value), then the vendor's table, then the words. */
export function mapSeverity(vendorValue: unknown, sourceMapping: Readonly<Record<string, Severity>>, vendorTable?: SeverityTable): MappedSeverity {
  const vendorSeverity = scalarText(vendorValue, MAX_VENDOR_SEVERITY_LENGTH) ?? null;
  if (vendorSeverity === null) return { severity: UNKNOWN_SEVERITY, vendorSeverity };
  const key = vendorSeverity.toLowerCase();
  const severity =
    (Object.hasOwn(sourceMapping, key) ? sourceMapping[key] : undefined) ??
    vendorTable?.(key) ??
    (Object.hasOwn(WORDS, key) ? WORDS[key] : undefined) ??
    UNKNOWN_SEVERITY;
  return { severity, vendorSeverity };
}

/** A numeric scale as descending thresholds, e.g. `[[90, 'critical'], [70, 'high'], …]`. */
export function numericScale(thresholds: ReadonlyArray<readonly [number, Severity]>, min: number, max: number): SeverityTable {
  return (key) => {
    if (!/^\d+(\.\d+)?$/.test(key)) return undefined;
    const value = Number(key);
    if (value < min || value > max) return undefined;
    return thresholds.find(([floor]) => value >= floor)?.[1];
  };
}
