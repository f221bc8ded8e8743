/**
 * The store thread: owns the SQLite database, so its synchronous statements and each commit's fsync
 * never hold up the event loop that answers requests. Started by EmbeddedStore.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './sqlite-store.js';
import {
  isRemoteMethod,
  remoteError,
  restoreBuffers,
  type FromStoreThread,
  type RemoteCall,
  type RemoteResult,
  type RemoteTarget,
  type ToStoreThread,
} from './store-protocol.js';

const port = parentPort!;
const store = new SqliteStore((workerData as { dataDir: string }).dataDir);
const targets: Record<RemoteTarget, object> = {
  incidents: store,
  inbox: store.inbox,
  triage: store.triage,
  deliveries: store.deliveries,
  apiKeys: store.apiKeys,
  registeredSources: store.registeredSources,
};

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
  const receiver = targets[target] as Record<string, (...args: unknown[]) => Promise<unknown>>;
  // Every call is submitted in this turn, so the writes among them share one group commit.
  receiver[method]!(...restoreBuffers(args)).then(
    (value) => reply([id, value]),
    (error: unknown) => reply([id, undefined, remoteError(error)]),
  );
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
  () => post({ opened: true }),
  (error: unknown) => {
    post({ openFailed: remoteError(error) });
    port.close();
  },
);
