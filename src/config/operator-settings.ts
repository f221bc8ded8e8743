import { ConfigError } from './config-error.js';
import { envReader } from './env.js';

/** Settings of the operator surface: API keys, the registration API, secrets at rest (Kubernetes mode: kubernetes-settings.ts). */
export interface OperatorSettings {
  /** `TW_ENCRYPTION_KEY`: AES-256 key for registered sources' secrets. */
  encryptionKey: Buffer | undefined;
  /** `TW_DEV_MODE`: with the embedded store, registered secrets may be kept without a key. */
  devMode: boolean;
  /** `TW_REGISTRATION_API=false` for pure-GitOps installs: sources come only from files and the cluster. */
  registrationApi: boolean;
  /** How long a rotated-out secret keeps verifying (`TW_ROTATION_GRACE_SECONDS`). */
  rotationGraceSeconds: number;
}

export function loadOperatorSettings(env: NodeJS.ProcessEnv): OperatorSettings {
  const read = envReader(env);
  return {
    encryptionKey: parseEncryptionKey(read.string('TW_ENCRYPTION_KEY')),
    devMode: read.boolean('TW_DEV_MODE', false),
    registrationApi: read.boolean('TW_REGISTRATION_API', true),
    rotationGraceSeconds: read.integer('TW_ROTATION_GRACE_SECONDS', 86_400, 0, 30 * 86_400),
  };
}

/** 32 bytes as 64 hex characters or as base64. */
function parseEncryptionKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError(`TW_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64 (got ${key.length} bytes)`);
  return key;
}
