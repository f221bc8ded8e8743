import type { ApiKeyRecord } from '../apikeys/api-key.js';

/** An API key as the API shows it: never the token or its hash. */
export function apiKeyJson(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    last_used_at: record.lastUsedAt,
  };
}
