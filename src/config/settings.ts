import type { BlockList } from 'node:net';
import type { LevelWithSilent } from '../log/logger.js';
import { ApiTokens } from './api-tokens.js';
import { ConfigError } from './config-error.js';
import { envReader } from './env.js';
import { parseTrustedProxies } from './trusted-proxies.js';

/** TW_MODE: every plane in one process, or one plane of a split deployment (MongoDB only). */
type ServiceMode = 'all' | 'receiver' | 'control';

export interface Settings {
  /** `TW_MODE` (default `all`). */
  mode: ServiceMode;
  /** `PORT`: every route the mode serves (docs/configuration.md, "Listeners and planes"). */
  port: number;
  /** `TW_RECEIVER_PORT`: a second listener with only the receiver and the probes; required in `receiver` mode. */
  receiverPort: number | undefined;

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

const DEFAULT_CONFIG_PATH = './webhook_config.yaml';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const MODES = ['all', 'receiver', 'control'] as const;

/** Reads and validates the environment once; everything after start-up uses the typed result. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const read = envReader(env);
  const configPath = read.string('TW_CONFIG');
  const receiverPort = read.string('TW_RECEIVER_PORT');
  const settings: Settings = {
    mode: read.oneOf('TW_MODE', 'all', MODES),
    port: read.integer('PORT', 8080, 0, 65_535),
    receiverPort: receiverPort === undefined ? undefined : read.integer('TW_RECEIVER_PORT', 0, 0, 65_535),
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
  checkPlanes(settings);
  return settings;
}

/** The mode, the listeners and the store must fit together (docs/configuration.md, "Listeners and planes"). */
function checkPlanes({ mode, port, receiverPort, mongodbUri }: Settings): void {
  if (mode !== 'all' && mongodbUri === undefined) {
    throw new ConfigError(
      `TW_MODE=${mode} needs MongoDB (MONGODB_URI): the embedded store has one writer, so its planes run in one process (TW_MODE=all, with TW_RECEIVER_PORT for the receiver's own listener)`,
    );
  }
  if (mode === 'receiver' && receiverPort === undefined) {
    throw new ConfigError('TW_MODE=receiver needs TW_RECEIVER_PORT, the listener senders reach (PORT then serves only the probes and /metrics)');
  }
  if (mode === 'control' && receiverPort !== undefined) throw new ConfigError('TW_MODE=control serves no receiver: unset TW_RECEIVER_PORT');
  if (receiverPort !== undefined && receiverPort !== 0 && receiverPort === port) {
    throw new ConfigError(`TW_RECEIVER_PORT (${receiverPort}) must differ from PORT: the receiver has a listener of its own`);
  }
}
