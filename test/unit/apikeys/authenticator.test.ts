import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ApiKeyAuthenticator, BOOTSTRAP_KEY_ID } from '../../../src/apikeys/authenticator.js';
import { grants, hashApiKeyToken, newApiKeyRecord, type ApiKeyRecord, type ApiKeyStore } from '../../../src/apikeys/api-key.js';
import { ApiTokens } from '../../../src/config/api-tokens.js';

class MemoryKeys implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  lookups = 0;
  touches: [string, string][] = [];
  async insertApiKey(record: ApiKeyRecord) {
    this.records.set(record.id, record);
  }
  async findApiKeyByHash(hash: string) {
    this.lookups++;
    return [...this.records.values()].find((record) => record.hash === hash);
  }
  async listApiKeys() {
    return [...this.records.values()];
  }
  async deleteApiKey(id: string) {
    return this.records.delete(id);
  }
  async touchApiKey(id: string, at: string) {
    this.touches.push([id, at]);
  }
}

describe('ApiKeyAuthenticator', () => {
  const logger = pino({ level: 'silent' });

  it('gives the bootstrap token every scope and stored keys theirs; expired, unknown and revoked keys get nothing', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const store = new MemoryKeys();
    const auth = new ApiKeyAuthenticator({ store, bootstrap: new ApiTokens(['tw_boot_0123456789']), logger, nowMs: () => now, cacheMs: 5_000 });
    const reader = newApiKeyRecord({ name: 'r', scopes: ['webhooks:read'], expiresAt: '2026-03-02T10:00:00.000Z', now: new Date(now) });
    await store.insertApiKey(reader.record);

    assert.equal((await auth.authenticate('tw_boot_0123456789'))?.keyId, BOOTSTRAP_KEY_ID);
    assert.ok(grants((await auth.authenticate('tw_boot_0123456789'))!.scopes, 'logs:read'));
    const principal = await auth.authenticate(reader.token);
    assert.deepEqual(principal, { keyId: reader.record.id, name: 'r', scopes: ['webhooks:read'] });
    assert.equal(grants(principal.scopes, 'webhooks:write'), false);
    assert.equal(await auth.authenticate('tw_unknown'), undefined);
    assert.equal(await auth.authenticate('not-even-prefixed'), undefined);

    await auth.authenticate(reader.token);
    assert.equal(store.lookups, 2, 'a known key is looked up once per cache period (plus the unknown one)');

    await store.deleteApiKey(reader.record.id);
    auth.forget(reader.record.id);
    assert.equal(await auth.authenticate(reader.token), undefined, 'revoked here: refused at once');

    await store.insertApiKey(reader.record);
    now += 6_000;
    assert.ok(await auth.authenticate(reader.token));
    now = Date.parse('2026-03-02T10:00:00Z');
    assert.equal(await auth.authenticate(reader.token), undefined, 'expired');
    assert.equal(hashApiKeyToken(reader.token), reader.record.hash);
  });

  it('writes last-used times off the request path, at most once a minute per key', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const store = new MemoryKeys();
    const auth = new ApiKeyAuthenticator({ store, bootstrap: new ApiTokens([]), logger, nowMs: () => now });
    const key = newApiKeyRecord({ name: 'k', scopes: ['admin'], expiresAt: null, now: new Date(now) });
    await store.insertApiKey(key.record);
    for (let i = 0; i < 50; i++) await auth.authenticate(key.token);
    assert.equal(store.touches.length, 0, 'nothing written while answering');
    await auth.stop();
    assert.deepEqual(store.touches, [[key.record.id, '2026-03-01T10:00:00.000Z']]);
    now += 30_000;
    await auth.authenticate(key.token);
    await auth.stop();
    assert.equal(store.touches.length, 1, 'not again within the minute');
    now += 31_000;
    await auth.authenticate(key.token);
    await auth.stop();
    assert.equal(store.touches.length, 2);
  });
});
