import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log/logger.js';
import { ConfigError } from '../config/config-error.js';
import { parseWebhookConfig } from '../sources/webhook-config.js';
import { servingClaim, type Source, type SourceClaim, type SourceProvider } from '../sources/source.js';

export interface FileSourceProviderOptions {
  /** The webhook_config.yaml to read. */
  path: string;
  /** Variables for `${VAR}` expansion, read at every (re)load. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /**
   * Start with no sources (and a warning) when the file does not exist, instead of failing.
   * start() sets it only for the default path, so `npm start` works anywhere while a TW_CONFIG
   * that points nowhere is a start-up error.
   */
  allowMissing?: boolean;
  /** Quiet time after the last filesystem event before reloading: saves arrive as bursts. */
  debounceMs?: number;
  /** Fallback re-read for filesystems where events get lost (network mounts, some containers). */
  pollIntervalMs?: number;
  /** Told after every reload whether the file on disk is being served (undefined) or why it is not. */
  onReload?: (problem: string | undefined) => void;
}

/** No file at the path, as opposed to a file we have read (whose text is a string). */
const MISSING = null;

/**
 * Sources from webhook_config.yaml, reloaded when the file changes. The directory is watched, not
 * the file: editors and Kubernetes ConfigMap mounts replace the file by rename or symlink swap,
 * which a watch on the old inode never sees. Every event and poll tick re-reads the file and acts
 * only if its text changed. A bad edit keeps the last good set serving and is logged; only a bad
 * file at start-up is fatal.
 */
export class FileSourceProvider implements SourceProvider {
  readonly id = 'file';
  private readonly path: string;
  private readonly origin: string;
  private readonly listeners: ((claims: readonly SourceClaim[]) => void)[] = [];
  private isSynced = false;
  private stopped = false;
  /** The text of the last file acted on, good or bad, so an unchanged bad file is logged once. */
  private seenText: string | typeof MISSING | undefined;
  private watcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Reloads run one at a time, in order. */
  private reloading: Promise<void> = Promise.resolve();
  /** Why the file on disk is not what is served (the last good configuration is), if it is not. */
  private rejection: string | undefined;

  constructor(private readonly options: FileSourceProviderOptions) {
    this.path = resolve(options.path);
    this.origin = `file:${this.path}`;
  }

  onChange(listener: (claims: readonly SourceClaim[]) => void): void {
    this.listeners.push(listener);
  }

  synced(): boolean {
    return this.isSynced;
  }

  /** Why the edited file is not served, for /readyz; undefined while the file is what is served. */
  problem(): string | undefined {
    return this.rejection;
  }

  async start(): Promise<void> {
    const text = await this.read().catch((error: Error) => {
      throw new ConfigError(`${this.origin}: ${error.message}`);
    });
    this.seenText = text;
    if (text === MISSING) {
      if (!this.options.allowMissing) throw new ConfigError(`${this.origin}: file not found`);
      this.options.logger.warn({ origin: this.origin }, 'webhook config not found: starting with no sources');
      this.emit([]);
    } else {
      const parsed = parseWebhookConfig(text, this.options.env, this.origin);
      if (!parsed.ok) throw new ConfigError(parsed.error);
      this.emit(parsed.value);
      this.options.logger.info({ origin: this.origin, sources: parsed.value.map((source) => source.name) }, 'webhook config loaded');
    }
    this.isSynced = true;
    this.watchDirectory();
    this.pollTimer = setInterval(() => {
      this.watchDirectory(); // re-arms the watch if the directory appeared or the watch failed
      this.reload();
    }, this.options.pollIntervalMs ?? 5_000).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.debounceTimer);
    clearInterval(this.pollTimer);
    await this.reloading;
  }

  private watchDirectory(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, () => this.scheduleReload());
      this.watcher.on('error', (error) => {
        this.options.logger.warn({ origin: this.origin, err: error }, 'webhook config watch failed: polling until it can be re-armed');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.options.logger.debug({ origin: this.origin, err: error }, 'webhook config directory not watchable yet: polling');
    }
  }

  private scheduleReload(): void {
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => this.reload(), this.options.debounceMs ?? 100).unref();
  }

  private reload(): void {
    this.reloading = this.reloading
      .then(() => this.reloadNow())
      .catch((error: unknown) => {
        this.reject(`cannot read the file: ${(error as Error).message}`);
        this.options.logger.error({ origin: this.origin, err: error }, 'webhook config reload failed');
      });
  }

  private async reloadNow(): Promise<void> {
    if (this.stopped) return;
    const text = await this.read();
    if (text === this.seenText || this.stopped) return;
    this.seenText = text;
    const { logger } = this.options;
    if (text === MISSING) {
      this.reject('the file disappeared');
      logger.warn({ origin: this.origin }, 'webhook config disappeared: keeping the last good sources');
      return;
    }
    const parsed = parseWebhookConfig(text, this.options.env, this.origin);
    if (!parsed.ok) {
      // The environment is the one the process started with: a variable set since cannot reach it.
      const problem = / is not set/.test(parsed.error)
        ? `${parsed.error} (variables come from the environment the service started with: set it and restart)`
        : parsed.error;
      this.reject(problem);
      logger.error({ origin: this.origin, problem }, 'webhook config rejected: keeping the last good sources');
      return;
    }
    this.rejection = undefined;
    this.options.onReload?.(undefined);
    this.emit(parsed.value);
    logger.info({ origin: this.origin, sources: parsed.value.map((source) => source.name) }, 'webhook config reloaded');
  }

  private reject(problem: string): void {
    this.rejection = problem;
    this.options.onReload?.(problem);
  }

  private async read(): Promise<string | typeof MISSING> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return MISSING;
      throw error;
    }
  }

  /** The file has no creation time per source: its claims are undated, so they rank first. */
  private emit(sources: readonly Source[]): void {
    const claims = sources.map((source) => servingClaim(source));
    for (const listener of this.listeners) listener(claims);
  }
}
