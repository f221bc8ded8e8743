/**
 * At most `perSecond` log lines of a kind each second. A line over the budget is skipped and
 * counted; the next line that goes out says how many were skipped before it. This keeps a line per
 * event affordable at any rate: pino writes stdout synchronously, and when the reader of a pipe
 * falls behind every write would stall the event loop.
 */
export class LineBudget {
  private windowStartMs = -Infinity;
  private used = 0;
  private skipped = 0;

  constructor(private readonly perSecond: number) {}

  /** undefined: skip this line; otherwise log it, with the number of lines skipped since the last one. */
  take(nowMs: number): number | undefined {
    if (nowMs - this.windowStartMs >= 1000) {
      this.windowStartMs = nowMs;
      this.used = 0;
    }
    if (this.used >= this.perSecond) {
      this.skipped++;
      return undefined;
    }
    this.used++;
    const skipped = this.skipped;
    this.skipped = 0;
    return skipped;
  }
}
