import type { LevelWithSilent } from 'pino';
import { ApiTokens } from './api-tokens.js';
import { ConfigError } from './config-error.js';

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
}

export const DEFAULT_CONFIG_PATH = './webhook_config.yaml';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates the environment once; everything after start-up uses the typed result. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === '' ? undefined : raw;
  };
  const configPath = value('TW_CONFIG');
  const settings: Settings = {
    port: integer('PORT', value('PORT'), 8080, 0, 65_535),
    host: value('HOST') ?? '0.0.0.0',
    configPath: configPath ?? DEFAULT_CONFIG_PATH,
    configPathIsDefault: configPath === undefined,
    dataDir: value('TW_DATA_DIR') ?? './data',
    apiTokens: new ApiTokens(list(value('TW_API_TOKEN'))),
    logLevel: oneOf('LOG_LEVEL', value('LOG_LEVEL')?.toLowerCase(), 'info', LOG_LEVELS),
    mongodbUri: value('MONGODB_URI'),
    requestTimeoutMs: integer('TW_REQUEST_TIMEOUT_MS', value('TW_REQUEST_TIMEOUT_MS'), 10_000, 1, 3_600_000),
    headersTimeoutMs: integer('TW_HEADERS_TIMEOUT_MS', value('TW_HEADERS_TIMEOUT_MS'), 5_000, 1, 3_600_000),
  };
  // node refuses a headers timeout longer than the request timeout; say so in our words.
  if (settings.headersTimeoutMs > settings.requestTimeoutMs) {
    throw new ConfigError(
      `TW_HEADERS_TIMEOUT_MS (${settings.headersTimeoutMs}) must not exceed TW_REQUEST_TIMEOUT_MS (${settings.requestTimeoutMs})`,
    );
  }
  return settings;
}

export function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const parsed = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return parsed;
}

function oneOf<T extends string>(name: string, raw: string | undefined, fallback: T, allowed: readonly T[]): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

/** `a, b,,c` → [a, b, c]: a comma-separated list with blanks dropped. */
export function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}
