import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DeliveryLogStore, DeliveryRecord } from '../incidents/ports.js';
import { schedulePrune } from '../store/retention.js';

const FLUSH_MS = 1_000;
/** Other replicas' records reach followers through the store, this often: slow on purpose. */
const REPLICA_POLL_MS = 5_000;
/** Records one poll reads at most (the newest). */
const POLL_LIMIT = 1_000;
const MAX_BATCH = 500;
/** While the store is down the buffer keeps this many records, then drops the oldest (counted). */
const MAX_BUFFERED = 10_000;

export interface DeliveryFollower {
  record(record: DeliveryRecord): void;
  end(): void;
}

export interface DeliveryRecorderDeps {
  store: DeliveryLogStore;
  retentionHours: number;
  metrics: Metrics;
  logger: Logger;
  replicaPollMs?: number;
}

/**
 * The delivery log, kept off the hot path: `record` only appends to memory; a timer writes a batch
 * every second. Best-effort by design — unlike incidents, the last second of log (or more, while
 * the store is down and the buffer overflows) may be lost on a crash. Retention: records older
 * than `retentionHours` are deleted periodically (MongoDB's TTL index does it there as well).
 */
export class DeliveryRecorder {
  private buffer: DeliveryRecord[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly followers = new Set<DeliveryFollower>();
  private pollTimer: NodeJS.Timeout | undefined;
  /** The newest record time a poll has seen: the next one passes on what is as new or newer. */
  private polledUpTo = '';

  constructor(private readonly deps: DeliveryRecorderDeps) {}

  start(): void {
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_MS).unref();
    this.pruneTimer = schedulePrune({
      hours: this.deps.retentionHours,
      prune: (before) => this.deps.store.pruneDeliveries(before),
      logger: this.deps.logger,
      failure: 'delivery log prune failed; next round will catch up',
    });
  }

  record(record: DeliveryRecord): void {
    this.buffer.push(record);
    for (const follower of this.followers) follower.record(record);
    if (this.buffer.length > MAX_BUFFERED) {
      this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
      this.deps.metrics.deliveryLogDropped.inc();
    }
  }

  /**
   * Live feed of this replica's records as they happen (`tw-cli logs --follow`), and of the other
   * replicas' through one store poll shared by every follower (followers drop what they already
   * have); returns the unsubscribe.
   */
  follow(follower: DeliveryFollower): () => void {
    this.followers.add(follower);
    if (this.pollTimer === undefined) {
      this.polledUpTo = new Date().toISOString();
      this.pollTimer = setInterval(() => void this.pollReplicas(), this.deps.replicaPollMs ?? REPLICA_POLL_MS).unref();
    }
    return () => {
      this.followers.delete(follower);
      if (this.followers.size === 0) this.stopPolling();
    };
  }

  /** At shutdown: followers end their streams, so their connections do not hold the server open. */
  endFollowers(): void {
    for (const follower of this.followers) follower.end();
    this.followers.clear();
    this.stopPolling();
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async pollReplicas(): Promise<void> {
    let latest: DeliveryRecord[];
    try {
      latest = await this.deps.store.listDeliveries({ limit: POLL_LIMIT });
    } catch {
      return; // the next round tries again; the local feed keeps flowing meanwhile
    }
    const since = this.polledUpTo;
    this.polledUpTo = latest[0]?.at ?? since;
    for (const record of latest.reverse()) {
      if (record.at < since) continue;
      for (const follower of this.followers) follower.record(record);
    }
  }

  /** Writes what is buffered (also on shutdown). One flush at a time, in order. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffered());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, MAX_BATCH);
      try {
        await this.deps.store.appendDeliveries(batch);
      } catch (error) {
        this.deps.logger.debug({ err: error, buffered: this.buffer.length }, 'delivery log write failed; keeping the records for the next flush');
        return;
      }
      this.buffer.splice(0, batch.length);
    }
  }
}
