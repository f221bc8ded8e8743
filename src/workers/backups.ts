import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import { DomainError } from '../core/errors.js';
import type { JobControl, JobHandler } from '../jobs/job.js';

/** `tw-webhooks-<UTC time to the millisecond>.sqlite`: names sort as the backups were made. */
const BACKUP_NAME = /^tw-webhooks-\d{8}T\d{9}Z\.sqlite$/;

function backupFileName(at: Date): string {
  return `tw-webhooks-${at.toISOString().replace(/[-:.]/g, '')}.sqlite`;
}

/** The backups in `directory`, oldest first. */
function listBackups(directory: string): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  return names.filter((name) => BACKUP_NAME.test(name)).sort();
}

export interface BackupSettings {
  /** `TW_BACKUP_DIR`. */
  directory: string;
  /** `TW_BACKUP_KEEP`: backups kept; older ones are deleted after each new one. */
  keep: number;
}

/**
 * The `backup` job: the store's online backup into the backup directory, with its pages as
 * progress, then the oldest backups beyond `keep` deleted. Not resumable: a backup cut short by a
 * crash leaves only a `.partial` file (removed by the next backup) and fails as interrupted.
 */
export function backupJob(deps: { store: Store; settings: BackupSettings; metrics: Metrics; now?: () => Date }): JobHandler {
  const { store, settings } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    kind: 'backup',
    unit: 'pages',
    resumable: false,
    async run(context) {
      if (!store.backup) throw new Error(`the ${store.kind} store has no backup of its own`);
      removePartials(settings.directory);
      const started = Date.now();
      const file = backupFileName(now());
      const summary = await store.backup({ directory: settings.directory, file }, ({ copiedPages, totalPages }) =>
        context.progress({ done: copiedPages, total: totalPages }),
      );
      deps.metrics.backupLastSuccess.set(Date.now() / 1000);
      const backups = listBackups(settings.directory);
      const removed = backups.slice(0, Math.max(0, backups.length - settings.keep));
      for (const name of removed) rmSync(join(settings.directory, name), { force: true });
      return { file, path: summary.path, bytes: summary.bytes, incidents: summary.incidents, duration_ms: Date.now() - started, removed };
    },
  };
}

function removePartials(directory: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith('.sqlite.partial')) rmSync(join(directory, name), { force: true });
}

const SCHEDULE_CHECK_MS = 60_000;

/**
 * Scheduled backups in the process (docs/operations.md, "Scheduled backups"): a backup is due when
 * the newest one in the directory is `intervalHours` old, so a restart neither repeats nor skips
 * one. A backup already running (one started through the API) simply takes this turn.
 */
export class BackupSchedule {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      jobs: JobControl;
      settings: BackupSettings & { intervalHours: number };
      metrics: Metrics;
      logger: Logger;
      nowMs?: () => number;
    },
  ) {}

  start(): void {
    const newest = listBackups(this.deps.settings.directory).at(-1);
    if (newest) this.deps.metrics.backupLastSuccess.set(statSync(join(this.deps.settings.directory, newest)).mtimeMs / 1000);
    if (this.deps.settings.intervalHours === 0) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), SCHEDULE_CHECK_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const { directory, intervalHours } = this.deps.settings;
    const newest = listBackups(directory).at(-1);
    const now = this.deps.nowMs?.() ?? Date.now();
    if (newest && now - statSync(join(directory, newest)).mtimeMs < intervalHours * 3_600_000) return;
    try {
      const job = await this.deps.jobs.startJob('backup', { scheduled: true });
      this.deps.logger.info({ job: job.id }, 'scheduled backup started');
    } catch (error) {
      if (error instanceof DomainError && error.code === 'conflict') return;
      this.deps.logger.warn({ err: error }, 'scheduled backup could not start; next check in a minute');
    }
  }
}
