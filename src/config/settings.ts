import type { BlockList } from 'node:net';
import type { LevelWithSilent } from '../log/logger.js';
import { ApiTokens } from './api-tokens.js';
import { ConfigError } from './config-error.js';
import { envReader } from './env.js';
import { parseTrustedProxies } from './trusted-proxies.js';

export interface Settings {
  port: number;
  host: string;
  /** `TW_CONFIG`: the webhook_config.yaml to read sources from. */
  configPath: string;
  /** true when TW_CONFIG was not set, so a missing file is tolerated (see the file provider). */
  configPathIsDefault: boolean;
  dataDir: string;
  apiTokens: ApiTokens;
  logLevel: LevelWithSilent;
  /** Unset means the embedded store under `dataDir`. */
  mongodbUri: string | undefined;
  /** Whole-request deadline against slow senders (node's `server.requestTimeout`). */
  requestTimeoutMs: number;
  /** Deadline for the request headers (node's `server.headersTimeout`), ≤ requestTimeoutMs. */
  headersTimeoutMs: number;
  /** `TW_TRUSTED_PROXIES`: peers whose X-Forwarded-For names the client; empty trusts none. */
  trustedProxies: BlockList;
  /** `TW_DRAIN_DELAY_SECONDS`: how long a stopping replica fails readiness but keeps serving (see http/drain.ts). */
  drainDelaySeconds: number;
}

export const DEFAULT_CONFIG_PATH = './webhook_config.yaml';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates the environment once; everything after start-up uses the typed result. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const read = envReader(env);
  const configPath = read.string('TW_CONFIG');
  const settings: Settings = {
    port: read.integer('PORT', 8080, 0, 65_535),
    host: read.string('HOST') ?? '0.0.0.0',
    configPath: configPath ?? DEFAULT_CONFIG_PATH,
    configPathIsDefault: configPath === undefined,
    dataDir: read.string('TW_DATA_DIR') ?? './data',
    apiTokens: new ApiTokens(read.list('TW_API_TOKEN')),
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    mongodbUri: read.string('MONGODB_URI'),
    requestTimeoutMs: read.integer('TW_REQUEST_TIMEOUT_MS', 10_000, 1, 3_600_000),
    headersTimeoutMs: read.integer('TW_HEADERS_TIMEOUT_MS', 5_000, 1, 3_600_000),
    trustedProxies: parseTrustedProxies(read.list('TW_TRUSTED_PROXIES')),
    drainDelaySeconds: read.integer('TW_DRAIN_DELAY_SECONDS', 0, 0, 3600),
  };
  // node refuses a headers timeout longer than the request timeout; say so in our words.
  if (settings.headersTimeoutMs > settings.requestTimeoutMs) {
    throw new ConfigError(`TW_HEADERS_TIMEOUT_MS (${settings.headersTimeoutMs}) must not exceed TW_REQUEST_TIMEOUT_MS (${settings.requestTimeoutMs})`);
  }
  return settings;
}
