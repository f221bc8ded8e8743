/**
 * The wiring of one tw-webhooks process: settings → sources → store → workers → HTTP server.
 * `main.ts` calls `start()`, as do tests that want the process in their own; each part is built
 * here and passed to the next.
 */
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log/logger.js';
import { loadSettings } from './config/settings.js';
import { loadPipelineSettings } from './config/pipeline-settings.js';
import { startupWarnings } from './config/startup-warnings.js';
import { createLogger } from './log/logger.js';
import { createMetrics, forgetRemovedSources, type Metrics } from './metrics/metrics.js';
import { createStore } from './store/create-store.js';
import type { Store } from './store/store.js';
import { createIngest } from './ingest/ingest.js';
import { createAccept } from './ingest/accept.js';
import { SourceRegistry } from './sources/registry.js';
import { FileSourceProvider } from './providers/file.js';
import { RateLimiter } from './http/rate-limit.js';
import { createApp } from './http/app.js';
import { closeServer, Drain } from './http/drain.js';
import { answerClientError } from './http/client-error.js';
import { inProcess } from './http/in-process.js';
import { InboxWorker } from './workers/inbox-worker.js';
import { workerId } from './workers/worker-id.js';
import { TriageDispatcher } from './workers/triage-dispatcher.js';
import { TriageRunnerClient } from './workers/triage-runner-client.js';
import { DeliveryRecorder } from './workers/delivery-recorder.js';
import { loadKubernetesSettings } from './config/kubernetes-settings.js';
import { loadOperatorSettings } from './config/operator-settings.js';
import { ApiKeyAuthenticator } from './apikeys/authenticator.js';
import { ApiSourceProvider } from './providers/api/api-provider.js';
import { SecretBox } from './providers/api/secret-box.js';
import { StoreRegistrations } from './providers/api/store-registrations.js';

export interface StartOptions {
  /** Where settings come from; `process.env` for the real service. */
  env: NodeJS.ProcessEnv;
  /** Defaults to pino JSON on stdout at `LOG_LEVEL`. */
  logger?: Logger;
}

export interface Service {
  /** `http://host:port` the server listens on (the real port when PORT=0). */
  url: string;
  port: number;
  logger: Logger;
  metrics: Metrics;
  registry: SourceRegistry;
  store: Store;
  /**
   * Fails readiness, keeps serving for TW_DRAIN_DELAY_SECONDS, stops accepting, lets in-flight
   * requests finish (up to the grace period), then closes everything.
   */
  stop(): Promise<void>;
}

/** How long in-flight requests may take to finish at shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function start(options: StartOptions): Promise<Service> {
  const { env } = options;
  const settings = loadSettings(env);
  const pipeline = loadPipelineSettings(env);
  const operator = loadOperatorSettings(env);
  const logger = options.logger ?? createLogger(settings.logLevel);
  const metrics = createMetrics();
  const kubernetesSettings = loadKubernetesSettings(env);

  // Sources first: a bad config stops start-up before the store is opened (built, not yet opened,
  // here because the API's sources live in it).
  const store = await createStore(settings, pipeline, logger, (fault, turnedUnhealthy) => {
    metrics.storeErrors.inc({ store: store.kind, kind: fault.kind });
    // Once: what follows (refused requests, quiet worker loops) is the consequence, not news.
    if (turnedUnhealthy) logger.error({ store: store.kind, kind: fault.kind }, `store unhealthy: ${fault.reason}; see docs/operations.md ("Store faults")`);
  });
  metrics.watchStoreHealth(() => ({ store: store.kind, healthy: store.health().healthy }));
  const secretBox = new SecretBox(operator.encryptionKey, operator.devMode && store.kind === 'embedded');
  const rateLimiter = new RateLimiter();
  const fileProvider = new FileSourceProvider({ path: settings.configPath, env, logger, allowMissing: settings.configPathIsDefault });
  // The Kubernetes client is loaded only in Kubernetes mode: it is a large part of the idle memory.
  const kubernetes = kubernetesSettings.enabled
    ? (await import('./controller/kubernetes.js')).createKubernetes(kubernetesSettings, metrics, logger)
    : undefined;
  const apiProvider = new ApiSourceProvider({ store: store.registeredSources, box: secretBox, logger });
  const registry = new SourceRegistry([fileProvider, ...(kubernetes ? [kubernetes.provider] : []), apiProvider], {
    onConflict: (conflict) => {
      metrics.sourceConflicts.inc({ source: conflict.name });
      logger.error(conflict, 'source name claimed more than once; the oldest claim keeps it');
    },
  });
  registry.onChange((sources) => {
    const names = new Set(sources.map((source) => source.name));
    rateLimiter.retain(names);
    void forgetRemovedSources(metrics, names);
    metrics.sourcesRegistered.set(sources.length);
  });
  await registry.start();

  try {
    await store.open();
  } catch (error) {
    await registry.stop();
    throw error;
  }
  await apiProvider.refresh();

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
          runner: new TriageRunnerClient({ url: triageUrl, secret: triageSecret, timeoutMs: pipeline.triage.timeoutMs, format: pipeline.triage.format }),
          settings: pipeline.triage,
          metrics,
          logger,
          workerId: worker,
        })
      : undefined;
  const deliveries = new DeliveryRecorder({ store: store.deliveries, retentionHours: pipeline.deliveries.retentionHours, metrics, logger });

  const authenticator = new ApiKeyAuthenticator({ store: store.apiKeys, bootstrap: settings.apiTokens, logger });
  const registrations = kubernetes
    ? kubernetes.registrations(operator.rotationGraceSeconds)
    : new StoreRegistrations({
        store: store.registeredSources,
        box: secretBox,
        rotationGraceSeconds: operator.rotationGraceSeconds,
        written: () => apiProvider.refresh(),
      });
  // node checks request/header deadlines every connectionsCheckingInterval (30 s by default): check
  // often enough that the configured deadlines are what a slow sender actually gets.
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, settings.headersTimeoutMs) });
  const drain = new Drain();
  const app = createApp({
    logger,
    metrics,
    sources: registry,
    store,
    accept: createAccept({ ingest, inbox: store.inbox, inlineBudgetMs: pipeline.queue.inlineBudgetMs, onQueued: () => inboxWorker.wake() }),
    deliveries,
    rateLimiter,
    api: {
      authenticate: (token) => authenticator.authenticate(token),
      forgetApiKey: (id) => authenticator.forget(id),
      webhooks: { sources: registry, registrations, registrationEnabled: operator.registrationApi, dispatch: inProcess(server), nowMs: Date.now },
      follow: (follower) => deliveries.follow(follower),
      nowMs: Date.now,
    },
    trustedProxies: settings.trustedProxies,
    drain,
  });

  server.on('request', app.callback());
  // Slow senders cannot hold a connection open: headers and the whole request are time-boxed.
  server.headersTimeout = settings.headersTimeoutMs;
  server.requestTimeout = settings.requestTimeoutMs;
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerClientError);
  try {
    await listen(server, settings.port, settings.host);
  } catch (error) {
    await Promise.all([registry.stop(), store.close()]);
    throw error;
  }
  inboxWorker.start();
  triageDispatcher?.start();
  deliveries.start();
  kubernetes?.startController(registry);
  authenticator.start();

  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(settings.host)}:${port}`;
  const sources = registry.list();
  logger.info({ port, host: settings.host, store: store.kind, sources: sources.map((source) => source.name) }, 'listening');
  const registrationStoresSecrets = operator.registrationApi && !kubernetesSettings.enabled;
  for (const warning of startupWarnings({
    apiKeys: settings.apiTokens.size,
    sources,
    triageRunnerConfigured: triageDispatcher !== undefined,
    registrationWithoutEncryptionKey: registrationStoresSecrets && operator.encryptionKey === undefined,
  })) {
    logger.warn(warning.fields, warning.message);
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Unready at once but still serving for the drain delay (see http/drain.ts); leadership
      // meanwhile, so another replica writes status. Then the followers' streams end, no new
      // connections, and the requests in flight finish (their writes are awaited).
      drain.begin();
      logger.info({ drainDelaySeconds: settings.drainDelaySeconds }, 'draining: not ready, still serving');
      await Promise.all([kubernetes?.stop(), settings.drainDelaySeconds > 0 && sleep(settings.drainDelaySeconds * 1000)]);
      deliveries.endFollowers();
      await closeServer(server, SHUTDOWN_GRACE_MS);
      // Leased work in flight finishes (or its lease expires for another replica); then the log's last batch.
      await Promise.all([inboxWorker.stop(), triageDispatcher?.stop()]);
      await Promise.all([deliveries.stop(), authenticator.stop()]);
      await registry.stop();
      await store.close();
    })());

  return { url, port, logger, metrics, registry, store, stop };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** A host as it goes in a URL: the wildcard becomes loopback, IPv6 gets brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
