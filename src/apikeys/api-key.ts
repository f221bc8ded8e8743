import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** What a key may do. `admin` implies every other scope. */
export const SCOPES = ['webhooks:read', 'webhooks:write', 'incidents:read', 'incidents:write', 'logs:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** An API key as the store keeps it: only the SHA-256 of the token, never the token itself. */
export interface ApiKeyRecord {
  /** `key-<uuid>`, how the key is named in listings and revoked. */
  id: string;
  name: string;
  /** Hex SHA-256 of the whole token. */
  hash: string;
  scopes: Scope[];
  createdAt: string;
  /** ISO time after which the key is refused; null = no expiry. */
  expiresAt: string | null;
  /** Written at most once a minute per key (see ApiKeyAuthenticator). */
  lastUsedAt: string | null;
}

export interface ApiKeyStore {
  insertApiKey(record: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** false when no key has that id. */
  deleteApiKey(id: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;
}

/** `tw_` + 43 base64url characters (256 random bits): long enough that a plain hash is safe to store. */
function newApiKeyToken(): string {
  return `tw_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKeyToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newApiKeyRecord(input: { name: string; scopes: Scope[]; expiresAt: string | null; now: Date }): { token: string; record: ApiKeyRecord } {
  const token = newApiKeyToken();
  return {
    token,
    record: {
      id: `key-${randomUUID()}`,
      name: input.name,
      hash: hashApiKeyToken(token),
      scopes: [...new Set(input.scopes)],
      createdAt: input.now.toISOString(),
      expiresAt: input.expiresAt,
      lastUsedAt: null,
    },
  };
}

export function grants(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes('admin') || scopes.includes(needed);
}
