/**
 * The store thread: owns the SQLite database, so its synchronous statements and each commit's fsync
 * never hold up the event loop that answers requests. Started by EmbeddedStore.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DELIVERIES_FILE, INCIDENTS_FILE, SqliteStore } from './sqlite-store.js';
import {
  isRemoteMethod,
  remoteError,
  restoreBuffers,
  type FromStoreThread,
  type RemoteCall,
  type RemoteResult,
  type RemoteTarget,
  type StoreMaintenance,
  type ToStoreThread,
} from './store-protocol.js';
import { StoreUnavailableError } from '../../core/errors.js';
import type { IntegrityReport, StoreFault } from '../store.js';
import { isTransientSqliteError, sqliteFault } from './sqlite-errors.js';

const port = parentPort!;
const store = new SqliteStore((workerData as { dataDir: string }).dataDir);
const targets: Record<RemoteTarget, object> = {
  incidents: store,
  inbox: store.inbox,
  triage: store.triage,
  deliveries: store.deliveries,
  apiKeys: store.apiKeys,
  registeredSources: store.registeredSources,
  audit: store.audit,
  jobs: store.jobs,
  maintenance: {
    backup: (target) => store.backup(target, (backupProgress) => post({ backupProgress })),
    sizes: () => store.sizes(),
    reclaimSpace: () => store.reclaimSpace(),
  } satisfies StoreMaintenance,
};

/** The first non-transient error met; from then on the files are left alone (see sqlite-errors.ts). */
let fault: StoreFault | undefined;
let settled: RemoteResult[] = [];
let replyScheduled = false;

function post(message: FromStoreThread): void {
  port.postMessage(message);
}

/** Replies of one turn go back together, like the calls came. */
function reply(result: RemoteResult): void {
  settled.push(result);
  if (replyScheduled) return;
  replyScheduled = true;
  setImmediate(flushReplies);
}

function flushReplies(): void {
  replyScheduled = false;
  if (settled.length === 0) return;
  const results = settled;
  settled = [];
  post({ results });
}

function run([id, target, method, args]: RemoteCall): void {
  if (!isRemoteMethod(target, method)) return reply([id, undefined, { name: 'Error', message: `no store method ${target}.${method}` }]);
  const checking = method === 'checkIntegrity';
  // The integrity check still runs: it is how a faulty file is examined.
  if (fault && !checking) return reply([id, undefined, remoteError(new StoreUnavailableError(fault.reason))]);
  const receiver = targets[target] as Record<string, (...args: unknown[]) => Promise<unknown>>;
  // Every call is submitted in this turn, so the writes among them share one group commit.
  receiver[method]!(...restoreBuffers(args)).then(
    (value) => {
      if (checking) damageFound(value as IntegrityReport);
      reply([id, value]);
    },
    // A backup's errors are mostly its destination's (a full or unwritable backup volume): they
    // fail that backup, never the store.
    (error: unknown) =>
      reply([id, undefined, remoteError(target === 'maintenance' ? error : storeError(error, target === 'deliveries' ? DELIVERIES_FILE : INCIDENTS_FILE))]),
  );
}

/** A fault or a transient SQLite error answers unavailable (503); a fault also ends serving. */
function storeError(error: unknown, file: string): unknown {
  const found = sqliteFault(error, file);
  if (found) {
    faulted(found);
    return new StoreUnavailableError(found.reason, error);
  }
  if (isTransientSqliteError(error)) return new StoreUnavailableError(`${file}: ${(error as Error).message}`, error);
  return error;
}

function damageFound(report: IntegrityReport): void {
  const damaged = report.parts.find((part) => !part.ok);
  if (damaged) faulted({ kind: 'corrupt', reason: `${damaged.name} failed its integrity check: ${damaged.problems[0] ?? 'damaged'}` });
}

function faulted(found: StoreFault): void {
  if (fault) return;
  fault = found;
  post({ fault });
}

port.on('message', (message: ToStoreThread) => {
  if ('calls' in message) {
    for (const call of message.calls) run(call);
    return;
  }
  // The port closing ends the thread; EmbeddedStore waits for that exit.
  void store.close().then(() => {
    flushReplies();
    port.close();
  });
});

store.open().then(
  () => post({ opened: true, conversion: store.conversion }),
  (error: unknown) => {
    post({ openFailed: remoteError(error) });
    port.close();
  },
);
