#!/usr/bin/env node
/** Wiring only: read settings, build each part, start, stop on SIGTERM. */
import { createServer } from 'node:http';
import { loadSettings } from './config/settings.js';
import { createLogger } from './log/logger.js';
import { createMetrics } from './metrics/metrics.js';
import { createStore } from './store/create-store.js';
import { createIngest } from './incidents/ingest.js';
import { SourceRegistry } from './sources/registry.js';
import { FileSourceProvider } from './sources/providers/file.js';
import { RateLimiter } from './ingest/rate-limit.js';
import { createApp } from './ingest/app.js';
import { loadPipelineSettings } from './config/pipeline-settings.js';
import { createAccept } from './queue/accept.js';
import { InboxWorker } from './queue/inbox-worker.js';
import { workerId } from './queue/worker-id.js';
import { TriageDispatcher } from './triage/triage-dispatcher.js';
import { TriageRunnerClient } from './triage/runner-client.js';
import { DeliveryRecorder } from './deliveries/delivery-recorder.js';
import { loadKubernetesSettings } from './config/kubernetes-settings.js';
import { createKubernetes } from './controller/kubernetes.js';

const settings = loadSettings(process.env);
const logger = createLogger(settings.logLevel);
const metrics = createMetrics();
const pipeline = loadPipelineSettings(process.env);
const kubernetesSettings = loadKubernetesSettings(process.env);

const store = await createStore(settings, pipeline, logger);
await store.open();

const rateLimiter = new RateLimiter();
const fileProvider = new FileSourceProvider({
  path: settings.configPath,
  env: process.env,
  logger,
  allowMissing: settings.configPathIsDefault,
});
const kubernetes = kubernetesSettings.enabled ? createKubernetes(kubernetesSettings, metrics, logger) : undefined;
const registry = new SourceRegistry([fileProvider, ...(kubernetes ? [kubernetes.provider] : [])], {
  onConflict: (conflict) => {
    metrics.sourceConflicts.inc({ source: conflict.name });
    logger.error(conflict, 'source name claimed more than once; the oldest claim keeps it');
  },
});
registry.onChange((sources) => {
  rateLimiter.retain(new Set(sources.map((source) => source.name)));
  metrics.sourcesRegistered.set(sources.length);
});
await registry.start();
kubernetes?.startController(registry);

// Background parts, on every replica: the inbox worker, the triage dispatcher (when a runner is
// configured; otherwise requests stay pending and listable) and the delivery log writer.
const ingest = createIngest(store);
const worker = workerId();
const inboxWorker = new InboxWorker({ inbox: store.inbox, ingest, sources: registry, settings: pipeline.queue, metrics, logger, workerId: worker });
const { url: triageUrl, secret: triageSecret } = pipeline.triage;
const triageDispatcher =
  triageUrl && triageSecret
    ? new TriageDispatcher({
        outbox: store.triage,
        runner: new TriageRunnerClient({ url: triageUrl, secret: triageSecret, timeoutMs: pipeline.triage.timeoutMs }),
        settings: pipeline.triage,
        metrics,
        logger,
        workerId: worker,
      })
    : undefined;
const deliveries = new DeliveryRecorder({ store: store.deliveries, retentionHours: pipeline.deliveries.retentionHours, metrics, logger });
inboxWorker.start();
triageDispatcher?.start();
deliveries.start();

const app = createApp({
  logger,
  metrics,
  sources: registry,
  store,
  accept: createAccept({ ingest, inbox: store.inbox, inlineBudgetMs: pipeline.queue.inlineBudgetMs, onQueued: () => inboxWorker.wake() }),
  deliveries,
  rateLimiter,
  tokenMatches: settings.apiTokens.matches,
});

// node checks request/header deadlines every connectionsCheckingInterval (30 s by default): check
// often enough that the configured deadlines are what a slow sender actually gets.
const server = createServer({ connectionsCheckingInterval: Math.min(1000, settings.headersTimeoutMs) }, app.callback());
// Slow senders cannot hold a connection open: headers and the whole request are time-boxed.
server.headersTimeout = settings.headersTimeoutMs;
server.requestTimeout = settings.requestTimeoutMs;
server.keepAliveTimeout = 65_000;
server.listen(settings.port, settings.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  logger.info({ port, host: settings.host, store: store.kind, sources: registry.list().map((s) => s.name) }, 'listening');
});

const SHUTDOWN_GRACE_MS = 10_000;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Stop accepting and let in-flight requests finish (their writes are awaited); a sender that
  // holds a connection past the grace period is cut off, it will retry what was not acknowledged.
  const closed = new Promise<void>((done) => server.close(() => done()));
  const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  await closed;
  clearTimeout(grace);
  // Leased work in flight finishes (or its lease expires for another replica); then the log's last batch.
  await Promise.all([inboxWorker.stop(), triageDispatcher?.stop()]);
  await deliveries.stop();
  await kubernetes?.stop();
  await registry.stop();
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
