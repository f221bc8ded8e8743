/**
 * client-go's rate-limited work queue, for string keys: a key is queued at most once however
 * often it is added; a key being processed is never handed to a second worker, and if it was
 * added meanwhile it is queued again when `done`. Retries are delayed by the larger of a per-key
 * exponential backoff and an overall token bucket, so one broken object cannot hog the workers
 * and a storm of failures cannot hammer the API server.
 */
export interface WorkQueueOptions {
  /** First retry delay of a key; doubles per failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Overall retry budget (client-go: 10/s, burst 100). */
  retriesPerSecond: number;
  retryBurst: number;
  now?: () => number;
}

const DEFAULT_WORK_QUEUE_OPTIONS: WorkQueueOptions = { baseDelayMs: 5, maxDelayMs: 300_000, retriesPerSecond: 10, retryBurst: 100 };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private tokens: number;
  private tokensAt: number;
  private readonly now: () => number;

  constructor(private readonly options: WorkQueueOptions = DEFAULT_WORK_QUEUE_OPTIONS) {
    this.now = options.now ?? Date.now;
    this.tokens = options.retryBurst;
    this.tokensAt = this.now();
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else this.queue.push(key);
  }

  /** Adds the key once `delayMs` has passed; an earlier pending delay for it is kept. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.delayed.has(key)) return;
    this.delayed.set(
      key,
      setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, delayMs),
    );
  }

  /** Retry later: the per-key backoff or the overall bucket, whichever waits longer. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.max(Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** failures), this.bucketDelay());
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, waiting for one; undefined once shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting (not counting those being processed or delayed). */
  length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private bucketDelay(): number {
    const now = this.now();
    const { retriesPerSecond, retryBurst } = this.options;
    this.tokens = Math.min(retryBurst, this.tokens + ((now - this.tokensAt) / 1000) * retriesPerSecond);
    this.tokensAt = now;
    this.tokens -= 1; // reserve a token now, as golang.org/x/time/rate's Reserve does, even if it is in the future
    return this.tokens >= 0 ? 0 : (-this.tokens / retriesPerSecond) * 1000;
  }
}
