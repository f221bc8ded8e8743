import { ConfigError } from './config-error.js';
import { envReader } from './env.js';

/** Settings of the operator surface: API keys, the registration API, secrets at rest (Kubernetes mode: kubernetes-settings.ts). */
export interface OperatorSettings {
  /** `TW_ENCRYPTION_KEY`: AES-256 key for registered sources' secrets (the embedded store makes its own without it). */
  encryptionKey: Buffer | undefined;
  /** `TW_REGISTRATION_API=false` for pure-GitOps installs: sources come only from files and the cluster. */
  registrationApi: boolean;
  /** How long a rotated-out secret keeps verifying (`TW_ROTATION_GRACE_SECONDS`). */
  rotationGraceSeconds: number;
}

export function loadOperatorSettings(env: NodeJS.ProcessEnv): OperatorSettings {
  const read = envReader(env);
  const encryptionKey = read.string('TW_ENCRYPTION_KEY');
  return {
    encryptionKey: encryptionKey === undefined ? undefined : parseEncryptionKey(encryptionKey, 'TW_ENCRYPTION_KEY'),
    registrationApi: read.boolean('TW_REGISTRATION_API', true),
    rotationGraceSeconds: read.integer('TW_ROTATION_GRACE_SECONDS', 86_400, 0, 30 * 86_400),
  };
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** 32 bytes in padded base64, as `openssl rand -base64 32` prints them. */
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Exactly 32 key bytes, written as 64 hex characters or as the 44 characters of padded base64.
 * Anything else is refused rather than decoded leniently: a 43-character passphrase would
 * otherwise pass for base64 and become a key of whatever its letters decode to. Never echoed.
 */
export function parseEncryptionKey(raw: string, name: string): Buffer {
  if (HEX_KEY.test(raw)) return Buffer.from(raw, 'hex');
  if (BASE64_KEY.test(raw)) return Buffer.from(raw, 'base64');
  throw new ConfigError(
    `${name} must be 32 bytes written as 64 hex characters or 44 base64 characters (\`openssl rand -base64 32\`); got ${raw.length} characters, and a passphrase is not a key`,
  );
}
