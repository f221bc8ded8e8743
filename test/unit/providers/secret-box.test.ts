import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCipheriv } from 'node:crypto';
import { SecretBox, SecretOpenError } from '../../../src/providers/api/secret-box.js';
import { DomainError } from '../../../src/core/errors.js';

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
