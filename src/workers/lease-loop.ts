import type { Logger } from '../log/logger.js';
import { StoreUnavailableError } from '../core/errors.js';

export interface LeaseLoopOptions<T> {
  /** For logs: `inbox`, `triage`. */
  name: string;
  /** Claims one due item (with a lease), or undefined when none is due. */
  claim: () => Promise<T | undefined>;
  /** Processes a claimed item; must record its outcome itself. */
  handle: (item: T) => Promise<void>;
  concurrency: number;
  /** Pause between looks while nothing is due (or the store is down). */
  pollMs: number;
  logger: Logger;
}

/**
 * Claims and handles due items with up to `concurrency` in flight. An idle loop costs one claim
 * query per poll: a slot that finds an item wakes another slot before working on it, so the loop
 * widens only while there is work. Items are leased by the store, so a crash here loses nothing:
 * the lease expires and any replica's loop claims the item again.
 */
export class LeaseLoop<T> {
  private active = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly runs = new Set<Promise<void>>();

  constructor(private readonly options: LeaseLoopOptions<T>) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Look now instead of at the next poll (e.g. right after this replica enqueued something). */
  wake(): void {
    if (this.stopped || this.active >= this.options.concurrency) return;
    clearTimeout(this.timer);
    this.active++;
    const run: Promise<void> = this.drain().finally(() => {
      this.active--;
      this.runs.delete(run);
      if (this.active === 0) this.schedule();
    });
    this.runs.add(run);
  }

  /** Stops claiming and waits for the items in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.runs]);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), this.options.pollMs);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      let item: T | undefined;
      try {
        item = await this.options.claim();
      } catch (error) {
        // The store being down is expected during an outage: look again at the next poll.
        const level = error instanceof StoreUnavailableError ? 'debug' : 'error';
        this.options.logger[level]({ err: error, loop: this.options.name }, 'claim failed');
        return;
      }
      if (item === undefined) return;
      this.wake();
      try {
        await this.options.handle(item);
      } catch (error) {
        this.options.logger.error({ err: error, loop: this.options.name }, 'handler failed; the lease will expire and the item be retried');
      }
    }
  }
}
