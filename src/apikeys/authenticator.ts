import type { Logger } from '../log/logger.js';
import type { ApiTokens } from '../config/api-tokens.js';
import { hashApiKeyToken, SCOPES, type ApiKeyRecord, type ApiKeyStore, type Scope } from './api-key.js';

/** Who is calling: a stored key, or the bootstrap `TW_API_TOKEN` (all scopes). */
export interface Principal {
  keyId: string;
  /** The key's name, recorded as who changed an incident and in the audit log (a revoked key's id alone says little). */
  name: string;
  scopes: readonly Scope[];
}

export const BOOTSTRAP_KEY_ID = 'bootstrap';

export interface ApiKeyAuthenticatorOptions {
  store: ApiKeyStore;
  bootstrap: ApiTokens;
  logger: Logger;
  nowMs?: () => number;
  /** How long a looked-up key is trusted before the store is asked again (revocations on other replicas). */
  cacheMs?: number;
  /** Last-used times are written at most this often per key. */
  touchIntervalMs?: number;
}

const DEFAULT_CACHE_MS = 5_000;
const DEFAULT_TOUCH_MS = 60_000;
/** Unknown tokens are cached too, so a flood of wrong keys does not become a flood of store reads. */
const MAX_CACHED = 10_000;

interface CachedLookup {
  record: ApiKeyRecord | undefined;
  until: number;
}

/**
 * Resolves a Bearer token to a principal. Stored keys are looked up by the SHA-256 of the token
 * (so the store compares hashes, never secrets) and cached for a few seconds; a revocation here
 * takes effect at once, on other replicas within the cache time. Last-used times are kept in memory
 * and written by a timer, at most once a minute per key, never on the request's path.
 */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, CachedLookup>();
  private readonly lastWritten = new Map<string, number>();
  private readonly pendingTouches = new Map<string, string>();
  private touchTimer: NodeJS.Timeout | undefined;
  private readonly nowMs: () => number;

  constructor(private readonly options: ApiKeyAuthenticatorOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  start(): void {
    this.touchTimer = setInterval(() => void this.writeTouches(), Math.min(this.options.touchIntervalMs ?? DEFAULT_TOUCH_MS, 10_000)).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.touchTimer);
    await this.writeTouches();
  }

  async authenticate(token: string): Promise<Principal | undefined> {
    if (this.options.bootstrap.matches(token)) return { keyId: BOOTSTRAP_KEY_ID, name: BOOTSTRAP_KEY_ID, scopes: SCOPES };
    if (!token.startsWith('tw_')) return undefined;
    const hash = hashApiKeyToken(token);
    const now = this.nowMs();
    let cached = this.cache.get(hash);
    if (!cached || cached.until <= now) {
      cached = { record: await this.options.store.findApiKeyByHash(hash), until: now + (this.options.cacheMs ?? DEFAULT_CACHE_MS) };
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(hash, cached);
    }
    const record = cached.record;
    if (!record || (record.expiresAt !== null && Date.parse(record.expiresAt) <= now)) return undefined;
    this.noteUse(record.id, now);
    return { keyId: record.id, name: record.name, scopes: record.scopes };
  }

  /** A key revoked here stops working here at once. */
  forget(id: string): void {
    for (const [hash, cached] of this.cache) if (cached.record?.id === id) this.cache.delete(hash);
    this.pendingTouches.delete(id);
  }

  private noteUse(id: string, now: number): void {
    const written = this.lastWritten.get(id);
    if (written !== undefined && now - written < (this.options.touchIntervalMs ?? DEFAULT_TOUCH_MS)) return;
    this.lastWritten.set(id, now);
    this.pendingTouches.set(id, new Date(now).toISOString());
  }

  private async writeTouches(): Promise<void> {
    const touches = [...this.pendingTouches];
    this.pendingTouches.clear();
    for (const [id, at] of touches) {
      await this.options.store.touchApiKey(id, at).catch((error: unknown) => {
        this.options.logger.debug({ err: error, keyId: id }, 'could not record the last use of an API key');
      });
    }
  }
}
