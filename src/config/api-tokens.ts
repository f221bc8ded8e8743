import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './config-error.js';

/** A bootstrap key holds every scope, so it is at least as long as a registered secret (128 bits). */
const MIN_API_TOKEN_BYTES = 16;

/**
 * The admin/read API keys. Only their SHA-256 hashes are kept in memory, and a presented key is
 * compared against every one in constant time, so neither a heap dump nor timing gives a key away.
 */
export class ApiTokens {
  private readonly hashes: readonly Buffer[];

  /** Throws ConfigError (naming how many, never which) when a key is shorter than MIN_API_TOKEN_BYTES. */
  constructor(tokens: readonly string[]) {
    const short = tokens.filter((token) => Buffer.byteLength(token, 'utf8') < MIN_API_TOKEN_BYTES).length;
    if (short > 0) {
      throw new ConfigError(
        `TW_API_TOKEN: every key must be at least ${MIN_API_TOKEN_BYTES} bytes (${short} of ${tokens.length} shorter); generate one with \`openssl rand -base64 32\``,
      );
    }
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
