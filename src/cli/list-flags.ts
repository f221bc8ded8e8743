import type { CommandContext, FlagSpecs, FlagValues } from './command.js';
import { usageError } from './exit-codes.js';

/** How many items a list shows (the lists of the newest or oldest N). */
export const LIMIT_FLAG: FlagSpecs = { limit: { type: 'string', placeholder: 'N', description: 'at most N items' } };

/** Paging, for the lists that answer a page and a `next` cursor when more exist. */
export const PAGE_FLAGS: FlagSpecs = {
  ...LIMIT_FLAG,
  cursor: { type: 'string', placeholder: 'C', description: 'continue where the previous page ended (its "next")' },
};

/** Time filters of the lists that have a time: since inclusive, until exclusive. */
export const TIME_FLAGS: FlagSpecs = {
  since: { type: 'string', placeholder: 'TIME|AGE', description: 'only items at or after TIME (RFC 3339) or AGE ago (30s, 15m, 2h, 7d)' },
  until: { type: 'string', placeholder: 'TIME|AGE', description: 'only items before TIME or AGE ago' },
};

const AGE = /^(\d{1,9})([smhd])$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `--since 2h` or `--since 2026-03-01T10:00:00Z` as the ISO time the API takes. */
export function timeFlag(values: FlagValues, name: string, nowMs = Date.now()): string | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  const age = AGE.exec(raw);
  if (age) return new Date(nowMs - Number(age[1]) * 1000 * SECONDS[age[2] as keyof typeof SECONDS]).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw) && !Number.isNaN(Date.parse(raw)) && /(Z|[+-]\d{2}:\d{2})$/i.test(raw)) return new Date(raw).toISOString();
  throw usageError(`--${name} takes an RFC 3339 time with a zone (2026-03-01T10:00:00Z) or an age (30s, 15m, 2h, 7d), got '${raw}'`);
}

export function wholeNumberFlag(values: FlagValues, name: string): string | undefined {
  const raw = values[name] as string | undefined;
  if (raw !== undefined && !/^[0-9]+$/.test(raw)) throw usageError(`--${name} must be a whole number, got '${raw}'`);
  return raw;
}

/** `?a=1&b=2` of the entries that are set. */
export function query(entries: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The query of the paging and time flags, as the list routes name their parameters. */
export function pageQuery(values: FlagValues): Record<string, string | undefined> {
  return {
    limit: wholeNumberFlag(values, 'limit'),
    cursor: values.cursor as string | undefined,
    since: timeFlag(values, 'since'),
    until: timeFlag(values, 'until'),
  };
}

/** Tells a person (on stderr, so scripts reading stdout are not disturbed) that a list goes on. */
export function noteMore(ctx: CommandContext, next: string | null | undefined, command: string): void {
  if (next && ctx.output === 'table') ctx.note(`more results exist: ${command} --cursor ${next}\n`);
}
