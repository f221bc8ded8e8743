import { SCOPES, type ApiKeyRecord } from '../apikeys/api-key.js';

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

/** The schema of apiKeyJson (the OpenAPI document's `ApiKey`). */
export const API_KEY_JSON_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { enum: SCOPES } },
    created_at: { type: 'string', format: 'date-time' },
    expires_at: { type: ['string', 'null'] },
    last_used_at: { type: ['string', 'null'], description: 'Updated at most once a minute' },
  },
};
