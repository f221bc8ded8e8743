import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The admin/read API keys. Only their SHA-256 hashes are kept in memory, and a presented key is
 * compared against every one in constant time, so neither a heap dump nor timing gives a key away.
 */
export class ApiTokens {
  private readonly hashes: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.hashes = tokens.map(sha256);
  }

  get size(): number {
    return this.hashes.length;
  }

  /** Arrow so it can be handed over as a plain `(token) => boolean`. */
  readonly matches = (token: string): boolean => {
    const presented = sha256(token);
    let matched = false;
    for (const hash of this.hashes) matched = timingSafeEqual(hash, presented) || matched;
    return matched;
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
