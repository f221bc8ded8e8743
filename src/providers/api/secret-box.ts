import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError } from '../../core/errors.js';

const SEALED = 'aes256gcm:v1:';
/** Development mode without a key: the secret is kept readable, and marked so. */
const PLAIN = 'plain:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts registered sources' secrets at rest with AES-256-GCM (a fresh 96-bit IV per secret, the
 * source name as associated data, so a sealed secret copied onto another source does not open).
 * Without a key it refuses to seal, unless development mode allows readable secrets.
 */
export class SecretBox {
  constructor(
    private readonly key: Buffer | undefined,
    private readonly allowPlain: boolean,
  ) {}

  /** Throws DomainError('unavailable') when secrets cannot be stored safely. */
  seal(secret: string, name: string): string {
    if (!this.key) {
      if (this.allowPlain) return PLAIN + Buffer.from(secret, 'utf8').toString('base64');
      throw new DomainError(
        'unavailable',
        'Cannot store a webhook secret: TW_ENCRYPTION_KEY is not set (32 bytes, base64 or hex). ' +
          'Only the embedded store in development mode (TW_DEV_MODE=true) keeps secrets without it.',
      );
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return SEALED + sealed.toString('base64');
  }

  /** Throws when the value was sealed with another key or altered. */
  open(value: string, name: string): Buffer {
    if (value.startsWith(PLAIN)) return Buffer.from(value.slice(PLAIN.length), 'base64');
    if (!value.startsWith(SEALED)) throw new Error('unknown secret encoding');
    if (!this.key) throw new Error('TW_ENCRYPTION_KEY is not set, so stored secrets cannot be read');
    const sealed = Buffer.from(value.slice(SEALED.length), 'base64');
    const iv = sealed.subarray(0, IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  }
}
