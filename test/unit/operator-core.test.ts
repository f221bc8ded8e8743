import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createCipheriv } from 'node:crypto';
import { SecretBox, SecretOpenError } from '../../src/providers/api/secret-box.js';
import { loadOperatorSettings } from '../../src/config/operator-settings.js';
import { ConfigError } from '../../src/config/config-error.js';
import { ApiKeyAuthenticator, BOOTSTRAP_KEY_ID } from '../../src/apikeys/authenticator.js';
import { grants, hashApiKeyToken, newApiKeyRecord, type ApiKeyRecord, type ApiKeyStore } from '../../src/apikeys/api-key.js';
import { ApiTokens } from '../../src/config/api-tokens.js';
import { DomainError } from '../../src/core/errors.js';

describe('SecretBox (AES-256-GCM at rest)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(() => key);
  /** Why a value does not open, as SecretOpenError names it. */
  const failure = (value: string, name = 'siem', opener = box) => {
    try {
      opener.open(value, name);
    } catch (error) {
      if (error instanceof SecretOpenError) return error.failure;
      throw error;
    }
    return 'opened';
  };
  /** Sealed by hand: `aes256gcm:v1:` + base64(iv ‖ ciphertext ‖ tag of `tagBytes`), with the real key. */
  const sealedWithTag = (tagBytes: number) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
    cipher.setAAD(Buffer.from('siem'));
    return `aes256gcm:v1:${Buffer.concat([iv, cipher.update('s3cret-0123456789'), cipher.final(), cipher.getAuthTag()]).toString('base64')}`;
  };

  it('seals with a fresh IV each time and opens only for the same source name and key', () => {
    const first = box.seal('s3cret', 'siem');
    const second = box.seal('s3cret', 'siem');
    assert.notEqual(first, second);
    assert.ok(!first.includes('s3cret') && !Buffer.from(first).includes(Buffer.from('s3cret').toString('base64')));
    assert.equal(box.open(first, 'siem').toString(), 's3cret');
    assert.equal(failure(first, 'edr'), 'wrong_key_or_altered', 'a sealed secret copied onto another source does not open');
    assert.equal(failure(first, 'siem', new SecretBox(() => randomBytes(32))), 'wrong_key_or_altered');
    const tampered = first.slice(0, -4) + (first.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal(failure(tampered), 'wrong_key_or_altered');
  });

  it('takes only full 16-byte tags: a value sealed with a 4, 8 or 12-byte tag by the right key does not open', () => {
    assert.equal(box.open(sealedWithTag(16), 'siem').toString(), 's3cret-0123456789', 'the hand-made format is the real one');
    for (const tagBytes of [4, 8, 12]) assert.equal(failure(sealedWithTag(tagBytes)), 'wrong_key_or_altered', `${tagBytes}-byte tag`);
    // Too short to hold an IV, one byte and a full tag: refused before any decryption.
    assert.equal(failure(`aes256gcm:v1:${randomBytes(12 + 16).toString('base64')}`), 'malformed');
    assert.equal(failure('aes256gcm:v1:'), 'malformed');
  });

  it('reads one format only: no plain values even with a key, no base64 a lenient decoder would repair', () => {
    assert.equal(failure(`plain:${Buffer.from('s3cret').toString('base64')}`), 'not_sealed');
    assert.equal(failure('aes256gcm:v2:AAAA'), 'not_sealed');
    const sealed = box.seal('s3cret', 'siem');
    const body = sealed.slice('aes256gcm:v1:'.length);
    // node's base64 decoder skips characters outside the alphabet: these would decode to the same bytes.
    assert.equal(failure(`aes256gcm:v1:${body.slice(0, 8)}*${body.slice(8)}`), 'malformed');
    assert.equal(failure(`aes256gcm:v1:${body.slice(0, 8)}\n${body.slice(8)}`), 'malformed');
    assert.equal(failure(`aes256gcm:v1:${body.replace(/=+$/, '')}`), body.endsWith('=') ? 'malformed' : 'opened', 'padding is required');
  });

  it('without a key seals nothing (naming TW_ENCRYPTION_KEY) and opens nothing', () => {
    const keyless = new SecretBox(() => undefined);
    assert.throws(
      () => keyless.seal('s', 'siem'),
      (error: unknown) => error instanceof DomainError && error.code === 'unavailable' && /TW_ENCRYPTION_KEY is not set/.test(error.message),
    );
    assert.equal(failure(box.seal('s3cret', 'siem'), 'siem', keyless), 'no_key');
  });
});

describe('TW_ENCRYPTION_KEY', () => {
  const parse = (value: string) => loadOperatorSettings({ TW_ENCRYPTION_KEY: value }).encryptionKey;
  const refused = (value: string) =>
    assert.throws(
      () => parse(value),
      (error: unknown) => error instanceof ConfigError && /must be 32 bytes/.test(error.message) && !error.message.includes(value),
    );

  it('is exactly 32 bytes as 64 hex characters or 44 base64 characters', () => {
    const key = randomBytes(32);
    assert.deepEqual(parse(key.toString('hex')), key);
    assert.deepEqual(parse(key.toString('hex').toUpperCase()), key);
    assert.deepEqual(parse(key.toString('base64')), key);
  });

  it('refuses a 43-character passphrase, unpadded or url-safe base64, and any other length', () => {
    refused('correcthorsebatterystaplecorrecthorsebatter'); // 43 letters: lenient base64 made 32 bytes of it
    const key = randomBytes(32);
    refused(key.toString('base64').replace(/=$/, ''));
    refused(key.toString('base64url'));
    refused(key.toString('hex').slice(1));
    refused(randomBytes(31).toString('base64'));
    refused(randomBytes(33).toString('base64'));
  });
});

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
