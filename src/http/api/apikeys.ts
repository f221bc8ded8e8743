import { DomainError } from '../../core/errors.js';
import { apiKeyJson } from '../../wire/api-key.js';
import { newApiKeyRecord, type ApiKeyStore, type Scope } from '../../apikeys/api-key.js';
import type { RouteHandlers } from '../routes.js';
import { jsonBody, validBody } from './json-body.js';
import { routeBody } from './validation.js';
import type { RecordChange } from './audit.js';

interface CreateApiKeyBody {
  name: string;
  scopes: Scope[];
  /** ISO time, or `expires_in_days` relative to now. */
  expires_at?: string;
  expires_in_days?: number;
}

const validateCreate = routeBody<CreateApiKeyBody>('apikeys.create');

export interface ApiKeysDeps {
  store: ApiKeyStore;
  /** Drops a revoked key from the authenticator's cache at once. */
  forget: (id: string) => void;
  nowMs: () => number;
  recordChange: RecordChange;
}

/** `POST/GET /api/apikeys`, `DELETE /api/apikeys/:id` (admin scope, see routes.ts). The token is shown once, at creation. */
export function apiKeysHandlers(deps: ApiKeysDeps): Pick<RouteHandlers, 'apikeys.create' | 'apikeys.list' | 'apikeys.revoke'> {
  return {
    'apikeys.create': [
      jsonBody(),
      async (ctx) => {
        const body = validBody(ctx, validateCreate);
        const now = new Date(deps.nowMs());
        const { token, record } = newApiKeyRecord({ name: body.name, scopes: body.scopes, expiresAt: expiry(body, now), now });
        await deps.store.insertApiKey(record);
        await deps.recordChange(ctx, 'apikey.create', record.id, { name: record.name, scopes: record.scopes, expires_at: record.expiresAt });
        ctx.status = 201;
        ctx.body = { ...apiKeyJson(record), token };
      },
    ],
    'apikeys.list': async (ctx) => {
      ctx.body = { items: (await deps.store.listApiKeys()).map(apiKeyJson) };
    },
    'apikeys.revoke': async (ctx) => {
      const id = String(ctx.params.id);
      if (!(await deps.store.deleteApiKey(id))) throw new DomainError('not_found', `API key '${id.slice(0, 64)}' not found`);
      deps.forget(id);
      await deps.recordChange(ctx, 'apikey.revoke', id);
      ctx.status = 204;
    },
  };
}

function expiry(body: CreateApiKeyBody, now: Date): string | null {
  if (body.expires_in_days !== undefined) return new Date(now.getTime() + body.expires_in_days * 86_400_000).toISOString();
  if (body.expires_at === undefined) return null;
  const at = Date.parse(body.expires_at);
  if (Number.isNaN(at)) throw new DomainError('bad_request', 'expires_at must be an ISO-8601 time');
  if (at <= now.getTime()) throw new DomainError('bad_request', 'expires_at must be in the future');
  return new Date(at).toISOString();
}
