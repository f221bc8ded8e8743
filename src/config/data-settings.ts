import { join } from 'node:path';
import { envReader } from './env.js';

/** How the stored data is kept over time: backups of the embedded store (docs/operations.md). */
export interface DataSettings {
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
  return {
    backup: {
      directory: read.string('TW_BACKUP_DIR') ?? join(dataDir, 'backups'),
      intervalHours: read.integer('TW_BACKUP_INTERVAL_HOURS', 0, 0, 24 * 366),
      keep: read.integer('TW_BACKUP_KEEP', 7, 1, 1000),
    },
  };
}
