import type { IncomingMessage } from 'node:http';

/**
 * The bytes of request bodies being read or held at once, across all requests: each request
 * reserves what it may hold (its Content-Length, or its source's limit when chunked) before a byte
 * is read, so a flood of big bodies is answered 503 + Retry-After instead of being buffered.
 */
export class BodyBudget {
  private reserved = 0;

  constructor(private readonly maxBytes: number) {}

  get bytesInFlight(): number {
    return this.reserved;
  }

  /** Reserves room for the body of `request` (at most `limitBytes`), or undefined when there is none; the release is idempotent. */
  reserve(request: IncomingMessage, limitBytes: number): (() => void) | undefined {
    const declared = Number(request.headers['content-length']);
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limitBytes) : limitBytes;
    if (this.reserved + bytes > this.maxBytes) return undefined;
    this.reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
    };
  }
}
