import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadOperatorSettings } from '../../../src/config/operator-settings.js';
import { ConfigError } from '../../../src/config/config-error.js';

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
