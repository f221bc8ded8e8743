import { Worker } from 'node:worker_threads';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Incident, NewIncident } from '../../incidents/model.js';
import { StoreDamagedError, StoreUnavailableError } from '../../core/errors.js';
import {
  type DeliveryLogStore,
  type IncidentPage,
  type IncidentQuery,
  type InboxStore,
  type InsertResult,
  type IncidentRange,
  type IncidentScan,
  type NormalizedUpdate,
  type RawBodyPrune,
  type TriageOutboxStore,
} from '../../incidents/ports.js';
import type { Logger } from '../../log/logger.js';
import type { VacuumConversion } from './free-space.js';
import type {
  BackupProgress,
  BackupSummary,
  BackupTarget,
  IntegrityReport,
  SpaceReclaimed,
  Store,
  StoreFault,
  StoreFaultListener,
  StoreHealth,
  StorePartSize,
} from '../store.js';
import {
  REMOTE_METHODS,
  restoreBuffers,
  type FromStoreThread,
  type RemoteCall,
  type RemoteError,
  type RemoteTarget,
  type ToStoreThread,
} from './store-protocol.js';
import type { ApiKeyStore } from '../../apikeys/api-key.js';
import type { RegisteredSourceStore } from '../../sources/registered-source.js';
import type { AuditStore } from '../../audit/audit.js';
import type { JobStore } from '../../jobs/job.js';
import { encodeInsert, insertResult, type EncodedInsertResult } from './encoded-insert.js';

/** The thread's entry next to this file: `.js` when built, `.ts` when the tests run the source with tsx (a worker inherits its loader). */
function startThread(workerData: { dataDir: string }): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  return new Worker(new URL(`./store-thread${extension}`, import.meta.url), { workerData });
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface EmbeddedStoreOptions {
  /** Pause before a thread that died is started again. */
  restartDelayMs?: number;
  /** Told when the store meets a fault (see sqlite-errors.ts). */
  onFault?: StoreFaultListener;
  /** Told what opening did to the files (a rewrite for incremental vacuum, see free-space.ts). */
  logger?: Logger;
}

/**
 * The zero-setup store: SQLite (see SqliteStore) on a thread of its own. Calls are queued and sent
 * at the next microtask checkpoint (see store-protocol.ts); each resolves when the thread's reply
 * comes back, so an insert still resolves only after its commit is on disk. If the thread dies, the calls in flight and every call
 * until it is back answer StoreUnavailableError (503: the sender retries, and dedupe catches a
 * write that did commit); it is restarted after a pause. A fault (a damaged, full or unwritable
 * file, see sqlite-errors.ts) is different: the store stays unhealthy until the service is
 * restarted, whose start-up check then examines the files again.
 */
export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly inbox = this.remote<InboxStore>('inbox');
  readonly triage = this.remote<TriageOutboxStore>('triage');
  readonly deliveries = this.remote<DeliveryLogStore>('deliveries');
  readonly apiKeys = this.remote<ApiKeyStore>('apiKeys');
  readonly registeredSources = this.remote<RegisteredSourceStore>('registeredSources');
  readonly audit = this.remote<AuditStore>('audit');
  readonly jobs = this.remote<JobStore>('jobs');

  private thread: Worker | undefined;
  private running = false;
  private everOpened = false;
  private closing = false;
  private queued: RemoteCall[] = [];
  private sendScheduled = false;
  private nextCallId = 0;
  private readonly pending = new Map<number, PendingCall>();
  private restartTimer: NodeJS.Timeout | undefined;
  private fault: StoreFault | undefined;
  /** The running backup's listener (one backup at a time: the backup job's kind is exclusive). */
  private backupProgress: ((progress: BackupProgress) => void) | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly options: EmbeddedStoreOptions = {},
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const thread = startThread({ dataDir: this.dataDir });
      this.thread = thread;
      thread.on('message', (message: FromStoreThread) => {
        if ('results' in message) {
          for (const [id, value, error] of message.results) this.settle(id, value, error);
        } else if ('opened' in message) {
          // Closed while a restarted thread was opening: it is not wanted any more.
          if (this.closing) return void thread.postMessage({ close: true } satisfies ToStoreThread);
          this.running = true;
          this.everOpened = true;
          this.logConversion(message.conversion);
          this.send();
          resolve();
        } else if ('openFailed' in message) {
          const { damage } = message.openFailed;
          // Damage found when a restarted thread reopens the files: served no more (no restart).
          if (damage && this.everOpened) this.faulted({ kind: 'corrupt', reason: `${basename(damage.file)} is damaged: ${damage.problems[0] ?? ''}` });
          reject(
            damage ? new StoreDamagedError(damage) : new StoreUnavailableError(`embedded store cannot open ${this.dataDir}: ${message.openFailed.message}`),
          );
        } else if ('fault' in message) {
          this.faulted(message.fault);
        } else if ('backupProgress' in message) {
          this.backupProgress?.(message.backupProgress);
        }
      });
      thread.on('error', (error) => reject(new StoreUnavailableError('embedded store thread failed', error)));
      thread.on('exit', () => this.lost(thread));
    });
  }

  health(): StoreHealth {
    if (this.fault) return { healthy: false, reason: this.fault.reason };
    if (!this.running) return { healthy: false, reason: this.everOpened ? 'embedded store thread is restarting' : 'embedded store is not open' };
    return { healthy: true };
  }

  checkIntegrity(): Promise<IntegrityReport> {
    return this.call('incidents', 'checkIntegrity', []);
  }

  async backup(target: BackupTarget, onProgress: (progress: BackupProgress) => void): Promise<BackupSummary> {
    this.backupProgress = onProgress;
    try {
      return await this.call<BackupSummary>('maintenance', 'backup', [target]);
    } finally {
      this.backupProgress = undefined;
    }
  }

  sizes(): Promise<StorePartSize[]> {
    return this.call('maintenance', 'sizes', []);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    const thread = this.thread;
    if (!thread || !this.running) return;
    this.send();
    const exited = new Promise((done) => thread.once('exit', done));
    thread.postMessage({ close: true } satisfies ToStoreThread);
    await exited;
  }

  insertIncident(incident: NewIncident): Promise<InsertResult> {
    return this.call<EncodedInsertResult>('incidents', 'insertEncoded', [encodeInsert(incident)]).then((answer) => insertResult(answer, incident));
  }

  getIncident(idOrNumber: string): Promise<Incident | undefined> {
    return this.call('incidents', 'getIncident', [idOrNumber]);
  }

  pruneIncidents(query: Parameters<Store['pruneIncidents']>[0]): Promise<number> {
    return this.call('incidents', 'pruneIncidents', [query]);
  }

  pruneRawBodies(query: Parameters<Store['pruneRawBodies']>[0]): Promise<RawBodyPrune> {
    return this.call('incidents', 'pruneRawBodies', [query]);
  }

  scanIncidents(query: IncidentScan): Promise<Incident[]> {
    return this.call('incidents', 'scanIncidents', [query]);
  }

  countIncidents(range: IncidentRange): Promise<number> {
    return this.call('incidents', 'countIncidents', [range]);
  }

  renormalizeIncidents(updates: readonly NormalizedUpdate[], at: string): Promise<number> {
    return this.call('incidents', 'renormalizeIncidents', [updates, at]);
  }

  reclaimSpace(): Promise<SpaceReclaimed> {
    return this.call('maintenance', 'reclaimSpace', []);
  }

  listIncidents(query: IncidentQuery): Promise<IncidentPage> {
    return this.call('incidents', 'listIncidents', [query]);
  }

  changeIncidentStatus(...args: Parameters<Store['changeIncidentStatus']>): Promise<Incident | undefined> {
    return this.call('incidents', 'changeIncidentStatus', args);
  }

  private remote<T>(target: RemoteTarget): T {
    const methods = Object.keys(REMOTE_METHODS[target]).map((method) => [method, (...args: unknown[]) => this.call(target, method, args)]);
    return Object.fromEntries(methods) as T;
  }

  private call<R>(target: RemoteTarget, method: string, args: unknown[]): Promise<R> {
    if (!this.running) return Promise.reject(new StoreUnavailableError('embedded store is not running'));
    return new Promise<R>((resolve, reject) => {
      const id = this.nextCallId++;
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.queued.push([id, target, method, args]);
      if (!this.sendScheduled) {
        this.sendScheduled = true;
        queueMicrotask(() => this.send());
      }
    });
  }

  private send(): void {
    this.sendScheduled = false;
    if (this.queued.length === 0 || !this.thread) return;
    const calls = this.queued;
    this.queued = [];
    this.thread.postMessage({ calls } satisfies ToStoreThread);
  }

  private settle(id: number, value: unknown, error: RemoteError | undefined): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    if (error === undefined) call.resolve(restoreBuffers(value));
    else
      call.reject(
        error.name === 'StoreUnavailableError' ? new StoreUnavailableError(error.message) : Object.assign(new Error(error.message), { name: error.name }),
      );
  }

  private logConversion(conversion: VacuumConversion | undefined): void {
    if (!conversion) return;
    const { file } = conversion;
    if (conversion.converted) {
      this.options.logger?.info(
        { file, ms: conversion.ms, bytes: conversion.bytes },
        'rewrote the incidents file once so that pruned space goes back to the file system',
      );
    } else {
      this.options.logger?.warn(
        { file },
        `the incidents file keeps the space of pruned incidents for reuse instead of giving it back: it could not be rewritten (${conversion.reason}); the next start tries again`,
      );
    }
  }

  private faulted(fault: StoreFault): void {
    if (this.fault) return;
    this.fault = fault;
    this.options.onFault?.(fault, true);
  }

  /** The thread is gone: fail what was in flight, and bring it back unless we are closing (or it never opened, or met a fault). */
  private lost(thread: Worker): void {
    if (thread !== this.thread) return;
    this.running = false;
    this.thread = undefined;
    const failed = new StoreUnavailableError('embedded store thread stopped');
    for (const call of this.pending.values()) call.reject(failed);
    this.pending.clear();
    this.queued = [];
    if (this.closing || !this.everOpened || this.fault) return;
    // A failed reopen exits the new thread, which lands here again: retried until it works.
    this.restartTimer = setTimeout(() => void this.open().catch(() => undefined), this.options.restartDelayMs ?? 1_000);
    this.restartTimer.unref();
  }
}
