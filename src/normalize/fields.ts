/**
 * Reading untrusted JSON. Only own properties count, so `constructor`, `toString` or a
 * `__proto__` key never reach the prototype chain; every value comes out typed or undefined.
 */

import { MAX_TITLE_LENGTH } from '../incidents/schema.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a path of own keys, e.g. `at(payload, 'event', 'DetectName')`. */
export function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** Replaces control characters (NUL included) so stored text prints and indexes cleanly. */
// eslint-disable-next-line no-control-regex -- control characters are what this strips
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** A non-empty single-line string, trimmed and cut to `max`; undefined otherwise. */
export function text(value: unknown, max = MAX_TITLE_LENGTH): string | undefined {
  if (typeof value !== 'string') return undefined;
  const cleaned = value.replace(CONTROL, ' ').trim().slice(0, max).trim();
  return cleaned === '' ? undefined : cleaned;
}

/** Ids and severities arrive as strings or numbers; Infinity (from 1e400) is no value. */
export function scalarText(value: unknown, max = MAX_TITLE_LENGTH): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return text(value, max);
}

/**
 * The first candidate that is usable as an id: text or a number, never cut (a cut id would merge
 * distinct events; the draft schema rejects an overlong one).
 */
export function firstId(candidates: readonly unknown[]): string | undefined {
  for (const candidate of candidates) {
    const found = scalarText(candidate, Infinity);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The first candidate that is usable text. */
export function firstText(candidates: readonly unknown[], max = MAX_TITLE_LENGTH): string | undefined {
  for (const candidate of candidates) {
    const found = text(candidate, max);
    if (found !== undefined) return found;
  }
  return undefined;
}
