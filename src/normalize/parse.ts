import { err, ok, type Result } from '../core/result.js';
import { isObject, type JsonObject } from './fields.js';

/** Deeper than any vendor sends; bounds every later walk over the payload. */
const MAX_DEPTH = 64;
const MAX_MESSAGE_DETAIL = 200;

// fatal: invalid UTF-8 is an error, not U+FFFD, so the stored text is the body byte for byte.
// ignoreBOM keeps a BOM in that text; parseJsonObject skips it (RFC 8259 §8.1 allows ignoring it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface ParsedPayload {
  /** The body exactly as received, decoded. */
  text: string;
  /**
   * Plain objects from JSON.parse: a `__proto__` key is an own property, never a prototype.
   * Read them through fields.ts (own properties only); never spread or merge them.
   */
  payload: JsonObject;
}

export function parsePayload(raw: Buffer): Result<ParsedPayload, string> {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return err('body is not valid UTF-8');
  }
  const parsed = parseJsonObject(text);
  return parsed.ok ? ok({ text, payload: parsed.value }) : parsed;
}

/** JSON text → an object at top level, no deeper than MAX_DEPTH. Also used for JSON inside strings. */
export function parseJsonObject(text: string): Result<JsonObject, string> {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (json.trim() === '') return err('body is empty; expected a JSON object');
  if (nestingExceeds(json, MAX_DEPTH)) return err(`JSON nesting is deeper than ${MAX_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return err(`body is not valid JSON: ${(error as Error).message.slice(0, MAX_MESSAGE_DETAIL)}`);
  }
  if (!isObject(value)) return err(`expected a JSON object at top level, got ${describe(value)}`);
  return ok(value);
}

/** A linear scan, so 10⁵ nested brackets cost a loop, not a stack. Brackets in strings don't count. */
function nestingExceeds(json: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
