/**
 * Exponential backoff with jitter: base·2^(attempt−1), capped at maxMs, then scaled by a random
 * 50–100 % so the retries of many entries that failed together (an outage) do not return together.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + random() / 2));
}
