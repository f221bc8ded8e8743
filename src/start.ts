/**
 * The wiring of one tw-webhooks process: settings → sources → store → workers → HTTP server.
 * `main.ts` calls `start()`, as do tests that want the process in their own; each part is built
 * here and passed to the next.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log/logger.js';
import { loadSettings, type Settings } from './config/settings.js';
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
import { SenderLimits } from './http/sender-limits.js';
import { createApp, routeHandlers } from './http/app.js';
import { closeServer, Drain } from './http/drain.js';
import { servedOn, type Listener, type RouteRow } from './http/routes.js';
import { answerClientError } from './http/client-error.js';
import { inProcess } from './http/in-process.js';
import { InboxWorker } from './workers/inbox-worker.js';
import { workerId } from './workers/worker-id.js';
import { TriageDispatcher } from './workers/triage-dispatcher.js';
import { TriageRunnerClient } from './workers/triage-runner-client.js';
import { TriageBacklog } from './workers/triage-backlog.js';
import { DeliveryRecorder } from './workers/delivery-recorder.js';
import { checkRegistrationWatched, loadKubernetesSettings } from './config/kubernetes-settings.js';
import { loadOperatorSettings } from './config/operator-settings.js';
import { loadLimitSettings } from './config/limit-settings.js';
import { BodyBudget } from './http/body-budget.js';
import { ApiKeyAuthenticator } from './apikeys/authenticator.js';
import { ApiSourceProvider } from './providers/api/api-provider.js';
import { SecretBox } from './providers/api/secret-box.js';
import { dataDirKey } from './providers/api/key-file.js';
import { StoreRegistrations } from './providers/api/store-registrations.js';
import { MIN_SECRET_BYTES, isWeakSecret } from './verify/secret-strength.js';
import { loadDataSettings } from './config/data-settings.js';
import { JobRunner } from './workers/job-runner.js';
import { BackupSchedule, backupJob } from './workers/backups.js';
import { IncidentRetention } from './workers/incident-retention.js';
import { renormalizeJob } from './jobs/renormalize.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartOptions {
  /** Where settings come from; `process.env` for the real service. */
  env: NodeJS.ProcessEnv;
  /** Defaults to pino JSON on stdout at `LOG_LEVEL`. */
  logger?: Logger;
}

export interface Service {
  /** `http://host:port` of PORT's listener (the real port when PORT=0). */
  url: string;
  port: number;
  /** The receiver's own listener (TW_RECEIVER_PORT), when there is one. */
  receiver: { url: string; port: number } | undefined;
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
  const data = loadDataSettings(env, settings.dataDir);
  const logger = options.logger ?? createLogger(settings.logLevel);
  const metrics = createMetrics();
  const kubernetesSettings = loadKubernetesSettings(env);
  const limits = loadLimitSettings(env);
  if (operator.registrationApi && settings.mode !== 'receiver') checkRegistrationWatched(kubernetesSettings);

  // Sources first: a bad config stops start-up before the store is opened (built, not yet opened,
  // here because the API's sources live in it).
  const store = await createStore(settings, pipeline, logger, (fault, turnedUnhealthy) => {
    metrics.storeErrors.inc({ store: store.kind, kind: fault.kind });
    // Once: what follows (refused requests, quiet worker loops) is the consequence, not news.
    if (turnedUnhealthy) logger.error({ store: store.kind, kind: fault.kind }, `store unhealthy: ${fault.reason}; see docs/operations.md ("Store faults")`);
  });
  metrics.watchStoreHealth(() => ({ store: store.kind, healthy: store.health().healthy }));
  metrics.watchStoreSizes(store.kind, () => store.sizes());
  // The embedded store's own key is read (or made) once its directory is open, below.
  let encryptionKey = operator.encryptionKey;
  const secretBox = new SecretBox(() => encryptionKey);
  // TW_MODE: what this process runs (docs/configuration.md, "Listeners and planes").
  const controls = settings.mode !== 'receiver';
  const senderLimits = new SenderLimits(limits.senders);
  const fileProvider = new FileSourceProvider({
    path: settings.configPath,
    env,
    logger,
    allowMissing: settings.configPathIsDefault,
    onReload: (problem) => {
      metrics.configRejected.set(problem === undefined ? 0 : 1);
      if (problem !== undefined) metrics.configRejections.inc();
    },
  });
  metrics.configRejected.set(0);
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
    senderLimits.retain(names);
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
  try {
    if (encryptionKey === undefined && store.kind === 'embedded') encryptionKey = await embeddedStoreKey(settings.dataDir, logger);
  } catch (error) {
    await Promise.all([registry.stop(), store.close()]);
    throw error;
  }
  await apiProvider.refresh();

  // Background parts: the delivery log writer wherever requests are received or logs followed; the
  // inbox worker and the triage dispatcher (when a runner is configured; otherwise requests stay
  // pending and listable) in the control plane — a receiver only stores what it takes.
  const ingest = createIngest(store);
  const worker = workerId();
  const inboxWorker = controls
    ? new InboxWorker({ inbox: store.inbox, ingest, sources: registry, settings: pipeline.queue, metrics, logger, workerId: worker })
    : undefined;
  const { url: triageUrl, secret: triageSecret } = pipeline.triage;
  const triageDispatcher =
    controls && triageUrl && triageSecret
      ? new TriageDispatcher({
          outbox: store.triage,
          runner: new TriageRunnerClient({ url: triageUrl, secret: triageSecret, timeoutMs: pipeline.triage.timeoutMs, format: pipeline.triage.format }),
          settings: pipeline.triage,
          metrics,
          logger,
          workerId: worker,
        })
      : undefined;
  const triageBacklog = new TriageBacklog(store.triage, metrics);
  const deliveries = new DeliveryRecorder({ store: store.deliveries, retentionHours: pipeline.deliveries.retentionHours, metrics, logger });

  // Admin jobs (backup, renormalize), scheduled backups and retention run in the control plane.
  const jobs = controls
    ? new JobRunner({
        store: store.jobs,
        handlers: [
          ...(store.backup ? [backupJob({ store, settings: data.backup, metrics })] : []),
          renormalizeJob({
            store,
            sources: registry,
            now: () => new Date(),
            // Like retention's: requests get the store between two batches.
            pause: () => sleep(20),
            counted: (outcome, incidents) => metrics.renormalized.inc({ outcome }, incidents),
          }),
        ],
        workerId: worker,
        logger,
        metrics,
      })
    : undefined;
  const backupSchedule = jobs && store.backup ? new BackupSchedule({ jobs, settings: data.backup, metrics, logger }) : undefined;
  const retention = controls ? new IncidentRetention({ store, sources: registry, settings: data.retention, metrics, logger }) : undefined;

  const authenticator = controls ? new ApiKeyAuthenticator({ store: store.apiKeys, bootstrap: settings.apiTokens, logger }) : undefined;
  const registrations = !controls
    ? undefined
    : kubernetes
      ? kubernetes.registrations(operator.rotationGraceSeconds)
      : new StoreRegistrations({
          store: store.registeredSources,
          box: secretBox,
          rotationGraceSeconds: operator.rotationGraceSeconds,
          written: () => apiProvider.refresh(),
        });
  // Test events take the real path through the receiver: node's parser, the app, verification,
  // storage and the delivery log, over an in-memory connection to a server of the receiver alone
  // that listens nowhere — so the control plane sends them too, without a receiver route of its own.
  const testReceiver = httpServer(settings, limits.maxConnections, metrics);
  const drain = new Drain();
  const handlers = routeHandlers({
    logger,
    metrics,
    sources: registry,
    configProblem: () => fileProvider.problem(),
    store,
    trustedProxies: settings.trustedProxies,
    drain,
    receiver: {
      accept: createAccept({ ingest, inbox: store.inbox, inlineBudgetMs: pipeline.queue.inlineBudgetMs, onQueued: () => inboxWorker?.wake() }),
      limits: senderLimits,
      bodies: { budget: new BodyBudget(limits.maxBodyBytesInFlight), discard: limits.discard },
    },
    ...(authenticator &&
      registrations &&
      jobs && {
        api: {
          authenticate: (token) => authenticator.authenticate(token),
          forgetApiKey: (id) => authenticator.forget(id),
          webhooks: { sources: registry, registrations, registrationEnabled: operator.registrationApi, dispatch: inProcess(testReceiver), nowMs: Date.now },
          follow: (follower) => deliveries.follow(follower),
          followLimits: limits.follow,
          jobs,
          nowMs: Date.now,
        },
      }),
  });
  const serving = (serves: (row: RouteRow) => boolean) => {
    const app = createApp({
      handlers,
      serves,
      drain,
      ...(authenticator && { authenticate: (token: string) => authenticator.authenticate(token) }),
      logger,
      metrics,
      deliveries,
      trustedProxies: settings.trustedProxies,
    });
    const callback = app.callback();
    // Koa's callback handles its own errors: the promise it returns never rejects.
    return (request: IncomingMessage, response: ServerResponse) => void callback(request, response);
  };
  const listener = (name: Listener) => serving((row) => servedOn(row.plane, name, settings.mode));
  testReceiver.on(
    'request',
    serving((row) => row.plane === 'receiver'),
  );
  const server = httpServer(settings, limits.maxConnections, metrics).on('request', listener('main'));
  const receiverServer =
    settings.receiverPort === undefined ? undefined : httpServer(settings, limits.maxConnections, metrics).on('request', listener('receiver'));
  try {
    await listen(server, settings.port, settings.host);
    if (receiverServer) await listen(receiverServer, settings.receiverPort!, settings.host);
  } catch (error) {
    server.close();
    await Promise.all([registry.stop(), store.close()]);
    throw error;
  }
  inboxWorker?.start();
  triageDispatcher?.start();
  triageBacklog.start();
  deliveries.start();
  if (controls) kubernetes?.startController(registry);
  authenticator?.start();
  jobs?.start();
  backupSchedule?.start();
  retention?.start();

  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(settings.host)}:${port}`;
  const receiver = receiverServer && addressOf(receiverServer, settings.host);
  const sources = registry.list();
  logger.info(
    {
      mode: settings.mode,
      port,
      ...(receiver && { receiverPort: receiver.port }),
      host: settings.host,
      store: store.kind,
      sources: sources.map((source) => source.name),
    },
    'listening',
  );
  const registrationStoresSecrets = controls && operator.registrationApi && !kubernetesSettings.enabled;
  for (const warning of startupWarnings({
    // A receiver serves no key-protected route: no key is nothing to warn about there.
    apiKeys: controls ? settings.apiTokens.size : undefined,
    sources,
    triageRunnerConfigured: triageDispatcher !== undefined,
    weakSecrets: {
      minBytes: MIN_SECRET_BYTES,
      sources: sources.filter((source) => source.secrets.some((secret) => isWeakSecret(source.verification, secret))).map((source) => source.name),
    },
    registrationWithoutEncryptionKey: registrationStoresSecrets && encryptionKey === undefined,
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
      await Promise.all([server, ...(receiverServer ? [receiverServer] : [])].map((listening) => closeServer(listening, SHUTDOWN_GRACE_MS)));
      // Leased work in flight finishes (or its lease expires for another replica); then the log's last batch.
      backupSchedule?.stop();
      triageBacklog.stop();
      await Promise.all([inboxWorker?.stop(), triageDispatcher?.stop(), jobs?.stop(), retention?.stop()]);
      await Promise.all([deliveries.stop(), authenticator?.stop()]);
      await registry.stop();
      await store.close();
    })());

  return { url, port, receiver, logger, metrics, registry, store, stop };
}

/** A server with the request deadlines and the connection cap (docs/configuration.md); its app is attached by the caller. */
function httpServer(settings: Settings, maxConnections: number, metrics: Metrics): Server {
  // node checks request/header deadlines every connectionsCheckingInterval (30 s by default): check
  // often enough that the configured deadlines are what a slow sender actually gets.
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, settings.headersTimeoutMs) });
  // Slow senders cannot hold a connection open: headers and the whole request are time-boxed.
  server.headersTimeout = settings.headersTimeoutMs;
  server.requestTimeout = settings.requestTimeoutMs;
  server.keepAliveTimeout = 65_000;
  // Past the cap node closes a new connection as it arrives: no answer is cheaper than any answer.
  server.maxConnections = maxConnections;
  server.on('drop', () => metrics.loadShed.inc({ reason: 'connections' }));
  server.on('clientError', answerClientError);
  return server;
}

function addressOf(server: Server, host: string): { url: string; port: number } {
  const port = (server.address() as AddressInfo).port;
  return { url: `http://${urlHost(host)}:${port}`, port };
}

/** The embedded store's key file (see key-file.ts), and a start-up line saying where it is. */
async function embeddedStoreKey(dataDir: string, logger: Logger): Promise<Buffer> {
  const { key, path, created, exposed } = await dataDirKey(dataDir);
  const fields = { path, created };
  logger.info(
    fields,
    created
      ? 'TW_ENCRYPTION_KEY is not set: generated an encryption key for registered secrets in the data directory (mode 0600); back it up with the data'
      : 'TW_ENCRYPTION_KEY is not set: registered secrets are encrypted with the key in the data directory',
  );
  if (exposed) logger.warn(fields, 'the encryption key file is readable by other users: chmod 600 it');
  return key;
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
