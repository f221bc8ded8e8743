interface Waiter {
  resolve: (sequence: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Hands out per-year sequence numbers from a shared counter, one counter round trip for all the
 * requests that arrived while the previous one was in flight: `increment(year, k)` adds k and
 * returns the new last value, and the k waiters get last−k+1 … last. Throughput is then not
 * bounded by the counter's latency, and there is at most one increment in flight per year and
 * process — which also keeps a read-then-write `$inc` (FerretDB 1.x) from racing itself.
 */
export class NumberAllocator {
  private readonly waiting = new Map<number, Waiter[]>();
  private readonly inFlight = new Set<number>();

  constructor(private readonly increment: (year: number, by: number) => Promise<number>) {}

  next(year: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiters = this.waiting.get(year) ?? [];
      waiters.push({ resolve, reject });
      this.waiting.set(year, waiters);
      this.pump(year);
    });
  }

  private pump(year: number): void {
    const batch = this.waiting.get(year);
    if (this.inFlight.has(year) || !batch || batch.length === 0) return;
    this.waiting.delete(year);
    this.inFlight.add(year);
    this.increment(year, batch.length)
      .then(
        (last) => batch.forEach((waiter, index) => waiter.resolve(last - batch.length + 1 + index)),
        (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
      )
      .finally(() => {
        this.inFlight.delete(year);
        this.pump(year);
      });
  }
}
