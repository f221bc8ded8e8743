/** Waiting on a condition with a deadline: the one way tests wait (never a bare sleep). */
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions {
  /** Fail after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between checks (default 100 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  message?: string;
}

/**
 * Polls `condition` until it returns a value other than undefined or false, and resolves with it;
 * throws after `timeoutMs` with the message and the last error or value seen. A throwing
 * condition counts as "not yet" (e.g. a server still starting).
 */
export function waitFor<T>(condition: Condition<T>, options?: WaitOptions): Promise<T>;
/** The older argument order, `waitFor(message, condition, timeoutMs, intervalMs)`, for tests written against it. */
export function waitFor<T>(message: string, condition: Condition<T>, timeoutMs?: number, intervalMs?: number): Promise<T>;
export function waitFor<T>(first: string | Condition<T>, second?: WaitOptions | Condition<T>, timeoutMs?: number, intervalMs?: number): Promise<T> {
  if (typeof first === 'string') return poll(second as Condition<T>, { message: first, timeoutMs, intervalMs });
  return poll(first, (second as WaitOptions | undefined) ?? {});
}

type Condition<T> = () => T | undefined | false | Promise<T | undefined | false>;

async function poll<T>(condition: Condition<T>, options: WaitOptions): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 100, message = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? `: ${last.message}` : last === undefined ? '' : ` (last: ${inspect(last)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${seen}`);
    }
    await sleep(intervalMs);
  }
}
