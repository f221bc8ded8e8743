import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError } from '../../core/errors.js';

/** The one format: `aes256gcm:v1:` + base64 of IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes). */
const SEALED = 'aes256gcm:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Canonical base64 only: a value that decodes only after node's lenient decoder skipped characters is damaged. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why a stored secret does not open, for the one log line and /readyz. */
export type OpenFailure = 'no_key' | 'not_sealed' | 'malformed' | 'wrong_key_or_altered';

export class SecretOpenError extends Error {
  constructor(
    readonly failure: OpenFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SecretOpenError';
  }
}

/**
 * Encrypts registered sources' secrets at rest with AES-256-GCM (a fresh 96-bit IV per secret, the
 * source name as associated data, so a sealed secret copied onto another source does not open,
 * and the full 128-bit tag). There is one format and no unencrypted one: without a key nothing is
 * sealed or opened. The key is asked for at each use because the embedded store's own key is read
 * (or made) only once its data directory is open, after the box is handed out.
 */
export class SecretBox {
  constructor(private readonly key: () => Buffer | undefined) {}

  /** Throws DomainError('unavailable') when there is no key to seal with. */
  seal(secret: string, name: string): string {
    const key = this.key();
    if (!key) {
      throw new DomainError(
        'unavailable',
        'Cannot store a webhook secret: TW_ENCRYPTION_KEY is not set (32 bytes: 64 hex characters or base64, e.g. `openssl rand -base64 32`). ' +
          'With MongoDB every replica needs the same key; the embedded store makes its own in its data directory.',
      );
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return SEALED + sealed.toString('base64');
  }

  /** Throws SecretOpenError saying why: no key, not this format, malformed, or a tag that does not verify. */
  open(value: string, name: string): Buffer {
    if (!value.startsWith(SEALED)) throw new SecretOpenError('not_sealed', 'the stored secret is not in the sealed format (an unencrypted record?)');
    const key = this.key();
    if (!key) throw new SecretOpenError('no_key', 'TW_ENCRYPTION_KEY is not set, so stored secrets cannot be opened');
    const encoded = value.slice(SEALED.length);
    const sealed = Buffer.from(encoded, 'base64');
    // At least one byte of secret, and a tag of full length: GCM would check a shorter tag as given.
    if (!BASE64.test(encoded) || sealed.length < IV_BYTES + 1 + TAG_BYTES) throw new SecretOpenError('malformed', 'the stored secret is malformed');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new SecretOpenError('wrong_key_or_altered', 'the stored secret does not open with this key (another key sealed it, or it was altered)');
    }
  }
}
