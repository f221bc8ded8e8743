import { StoreDamagedError, StoreUnavailableError } from '../../core/errors.js';
import type { DeliveryLogStore, InboxStore, IncidentStore, TriageOutboxStore } from '../../incidents/ports.js';
import type { FileDamage } from '../../core/errors.js';
import type { BackupProgress, BackupTarget, Store, StoreFault } from '../store.js';
import type { ApiKeyStore } from '../../apikeys/api-key.js';
import type { RegisteredSourceStore } from '../../sources/registered-source.js';
import type { AuditStore } from '../../audit/audit.js';
import type { JobStore } from '../../jobs/job.js';
import type { EncodedInsert, EncodedInsertResult } from './encoded-insert.js';
import type { VacuumConversion } from './free-space.js';

/*
 * What crosses between the service's event loop and the store thread. Calls made in one stretch of
 * synchronous code (a delivery-log batch, one request's call) travel as one message, sent at the
 * next microtask checkpoint: under load that is about a message per request, which measured no
 * slower than waiting for the end of the turn and adds no latency. The replies of one turn of the
 * thread go back as one message, and every call that reached the thread in one turn shares one
 * group commit, so a burst still pays one fsync.
 */

/** What the store thread hosts: the Store's parts, with inserts taking the encoded form. */
export type ThreadHostedStore = Omit<Store, 'kind' | 'health' | 'insertIncident'> & {
  insertEncoded(insert: EncodedInsert): Promise<EncodedInsertResult>;
};

/** The methods each part of the store offers over the thread boundary (checked against its interface). */
export const REMOTE_METHODS = {
  // Inserts cross encoded (see encoded-insert.ts); the reads as they are. The whole store's
  // integrity check is served here too (it reads every file).
  incidents: {
    insertEncoded: true,
    getIncident: true,
    listIncidents: true,
    changeIncidentStatus: true,
    pruneIncidents: true,
    pruneRawBodies: true,
    scanIncidents: true,
    countIncidents: true,
    renormalizeIncidents: true,
    checkIntegrity: true,
  } satisfies Record<Exclude<keyof IncidentStore, 'insertIncident'> | 'insertEncoded' | 'checkIntegrity', true>,
  inbox: { enqueue: true, getEntry: true, claimEntry: true, finishEntry: true, countOpenEntries: true, pruneEntries: true } satisfies Record<
    keyof InboxStore,
    true
  >,
  triage: { claimTriage: true, finishTriage: true, listTriage: true, countPendingTriage: true } satisfies Record<keyof TriageOutboxStore, true>,
  deliveries: { appendDeliveries: true, listDeliveries: true, pruneDeliveries: true } satisfies Record<keyof DeliveryLogStore, true>,
  apiKeys: { insertApiKey: true, findApiKeyByHash: true, listApiKeys: true, deleteApiKey: true, touchApiKey: true } satisfies Record<keyof ApiKeyStore, true>,
  jobs: { startJob: true, getJob: true, listJobs: true, checkpointJob: true, finishJob: true, claimStaleJob: true } satisfies Record<keyof JobStore, true>,
  // The backup's progress comes back as `backupProgress` messages while its call runs.
  maintenance: { backup: true, sizes: true, reclaimSpace: true } satisfies Record<keyof StoreMaintenance, true>,
  registeredSources: {
    insertRegisteredSource: true,
    getRegisteredSource: true,
    listRegisteredSources: true,
    replaceRegisteredSource: true,
    deleteRegisteredSource: true,
  } satisfies Record<keyof RegisteredSourceStore, true>,
  audit: { appendAudit: true, listAudit: true } satisfies Record<keyof AuditStore, true>,
} as const;

export type RemoteTarget = keyof typeof REMOTE_METHODS;

/** The store's upkeep as the thread serves it. */
export interface StoreMaintenance {
  backup(target: BackupTarget): Promise<unknown>;
  sizes(): Promise<unknown>;
  reclaimSpace(): Promise<unknown>;
}

/** [call id, target, method, arguments] */
export type RemoteCall = [number, RemoteTarget, string, unknown[]];

/** [call id, value] or [call id, undefined, error] */
export type RemoteResult = [number, unknown] | [number, undefined, RemoteError];

export interface RemoteError {
  name: string;
  message: string;
  /** A StoreDamagedError's findings. */
  damage?: FileDamage;
}

export type ToStoreThread = { calls: RemoteCall[] } | { close: true };
/** `fault`: the thread met a non-transient error and serves nothing more but the integrity check. */
export type FromStoreThread =
  | { opened: true; conversion?: VacuumConversion }
  | { openFailed: RemoteError }
  | { results: RemoteResult[] }
  | { fault: StoreFault }
  | { backupProgress: BackupProgress };

export function isRemoteMethod(target: RemoteTarget, method: string): boolean {
  return Object.hasOwn(REMOTE_METHODS[target], method);
}

export function remoteError(error: unknown): RemoteError {
  // An unavailable store's public message is generic; its reason is what the other side needs.
  if (error instanceof StoreUnavailableError) return { name: error.name, message: error.reason };
  if (error instanceof StoreDamagedError) return { name: error.name, message: error.message, damage: error.damage };
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}

/**
 * Structured clone turns a Buffer into a plain Uint8Array. Buffers only travel as values or as
 * fields of the values (a queue entry's body), so one level deep is where they are restored.
 */
export function restoreBuffers<T>(value: T): T {
  if (value instanceof Uint8Array) return asBuffer(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => restoreBuffers(item)) as T;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (record[key] instanceof Uint8Array) record[key] = asBuffer(record[key]);
  }
  return value;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
