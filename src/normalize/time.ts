/**
 * Vendor times → ISO-8601 UTC (`…Z`) or null. Never throws: an unusable time is no time.
 * Epoch numbers below 1e11 are seconds (1e11 s is the year 5138), larger ones milliseconds.
 * ISO strings without a zone are UTC (the Office 365 Management Activity API sends them so).
 */

const EPOCH_SECONDS_BELOW = 1e11;
const NUMERIC = /^\d+(\.\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const MAX_TIME_TEXT = 64;

export function toIsoUtc(value: unknown): string | null {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed.length > MAX_TIME_TEXT) return null;
  if (NUMERIC.test(trimmed)) return fromEpoch(Number(trimmed));
  return fromIso(trimmed);
}

function fromEpoch(value: number): string | null {
  if (!Number.isFinite(value) || value < 0) return null;
  return fromMillis(value < EPOCH_SECONDS_BELOW ? value * 1000 : value);
}

function fromIso(value: string): string | null {
  const match = ISO.exec(value);
  if (!match) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, s] = fields;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(y, mo - 1, d, h, mi, s, millis);
  // Date.UTC rolls 2024-02-30 over into March; a date that does not round-trip does not exist.
  const check = new Date(local);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return null;
  }
  return fromMillis(local - zoneOffsetMillis(zone));
}

function zoneOffsetMillis(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return (zone.startsWith('-') ? -1 : 1) * minutes * 60_000;
}

/** Only four-digit years: anything else is not a time a person or a database would expect. */
function fromMillis(millis: number): string | null {
  const date = new Date(millis);
  const year = date.getUTCFullYear();
  return Number.isNaN(year) || year < 1970 || year > 9999 ? null : date.toISOString();
}
