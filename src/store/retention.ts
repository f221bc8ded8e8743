import type { Logger } from '../log/logger.js';

const PRUNE_EVERY_MS = 10 * 60_000;

export interface PruneSchedule {
  /** Keep this many hours. */
  hours: number;
  /** Deletes what is older than `before` (ISO). */
  prune: (before: string) => Promise<unknown>;
  logger: Logger;
  /** The debug line when a round fails. */
  failure: string;
  now?: () => Date;
}

/**
 * Retention as every replica runs it: at once, then every 10 minutes, deletes what is older than
 * `hours` (deleting twice is harmless). A failed round is only logged; the next one catches up.
 * The caller clears the returned timer when it stops.
 */
export function schedulePrune(schedule: PruneSchedule): NodeJS.Timeout {
  const now = schedule.now ?? (() => new Date());
  const round = async () => {
    const before = new Date(now().getTime() - schedule.hours * 3_600_000).toISOString();
    try {
      await schedule.prune(before);
    } catch (error) {
      schedule.logger.debug({ err: error }, schedule.failure);
    }
  };
  void round();
  return setInterval(() => void round(), PRUNE_EVERY_MS).unref();
}
