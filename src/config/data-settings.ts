import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import { envReader } from './env.js';

/** A hundred years: retention settings (global or a source's) are days, 0 meaning for good. */
export const MAX_RETENTION_DAYS = 36_500;

/** Days, 0 meaning for good (a raw body: as long as its incident). */
export interface RetentionSettings {
  /** `TW_RETENTION_DAYS`: incidents, by received time. */
  days: number;
  /** `TW_RAW_BODY_RETENTION_DAYS`: their raw bodies, at most as long as the incident. */
  rawBodyDays: number;
}

/** How the stored data is kept over time: retention, and backups of the embedded store (docs/operations.md). */
export interface DataSettings {
  /** `TW_RETENTION_DAYS`, `TW_RAW_BODY_RETENTION_DAYS` (default 0: for good; as long as the incident): sources may override each. */
  retention: RetentionSettings;
  backup: {
    /** `TW_BACKUP_DIR` (default `<TW_DATA_DIR>/backups`): where backups are written; a second volume in production. */
    directory: string;
    /** `TW_BACKUP_INTERVAL_HOURS` (default 0 = only on request): scheduled backups. */
    intervalHours: number;
    /** `TW_BACKUP_KEEP` (default 7): backups kept; older ones are deleted after each new one. */
    keep: number;
  };
}

export function loadDataSettings(env: NodeJS.ProcessEnv, dataDir: string): DataSettings {
  const read = envReader(env);
  const days = read.integer('TW_RETENTION_DAYS', 0, 0, MAX_RETENTION_DAYS);
  const rawBodyDays = read.integer('TW_RAW_BODY_RETENTION_DAYS', 0, 0, MAX_RETENTION_DAYS);
  // As for a source's own settings: a raw body cannot outlive its incident.
  if (days > 0 && rawBodyDays > days) throw new ConfigError(`TW_RAW_BODY_RETENTION_DAYS (${rawBodyDays}) must not exceed TW_RETENTION_DAYS (${days})`);
  return {
    retention: { days, rawBodyDays },
    backup: {
      directory: read.string('TW_BACKUP_DIR') ?? join(dataDir, 'backups'),
      intervalHours: read.integer('TW_BACKUP_INTERVAL_HOURS', 0, 0, 24 * 366),
      keep: read.integer('TW_BACKUP_KEEP', 7, 1, 1000),
    },
  };
}
