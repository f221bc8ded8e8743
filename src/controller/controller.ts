import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KubeClient } from '../kubernetes/kube-client.js';
import { keyOf } from '../kubernetes/informer.js';
import type { KubernetesSourceProvider } from '../kubernetes/provider.js';
import { originOf, sourceNameOf, type CachedWebhookSource } from '../kubernetes/webhook-source.js';
import type { SourceRegistry } from '../sources/registry.js';
import { LAST_EVENT_WRITE_INTERVAL_MS, type ClaimView } from './desired-status.js';
import { EventRecorder } from './events.js';
import { LeaderElection } from './leader-election.js';
import type { LeaseTiming } from '../config/kubernetes-settings.js';
import { CacheBehind, reconcile } from './reconciler.js';
import { WorkQueue } from './work-queue.js';

const LEASE_NAME = 'tw-webhooks-leader';

export interface WebhookSourceControllerOptions {
  client: KubeClient;
  provider: KubernetesSourceProvider;
  registry: SourceRegistry;
  /** Where the Lease lives. */
  namespace: string;
  identity: string;
  lease: LeaseTiming;
  metrics: Metrics;
  logger: Logger;
  workers?: number;
}

/**
 * The WebhookSource controller: every replica runs the informers (through the provider) and the
 * registry; only the leader reconciles. Keys are enqueued when what decides an object's status
 * changed — its own version, its Secret's, or who holds its source name in the registry — so a
 * reconcile sees the registry already serving what Ready announces.
 */
export class WebhookSourceController {
  private queue: WorkQueue | undefined;
  private workers: Promise<void>[] = [];
  /** Per key, the inputs its status was last computed from. */
  private seen = new Map<string, string>();
  private readonly election: LeaderElection;
  private readonly events: EventRecorder;
  private tick: NodeJS.Timeout | undefined;

  constructor(private readonly options: WebhookSourceControllerOptions) {
    const { client, namespace, identity, lease, logger, metrics } = options;
    this.events = new EventRecorder(client, identity, logger);
    this.election = new LeaderElection({
      client,
      namespace,
      name: LEASE_NAME,
      identity,
      timing: lease,
      logger,
      onStartedLeading: () => this.lead(),
      onStoppedLeading: () => this.follow(),
    });
    metrics.leader.set(0);
    options.registry.onChange(() => {
      this.countSources();
      this.enqueueChanged();
    });
    options.provider.onCacheEvent((event) => {
      if (event.type === 'resync' && event.resource === 'webhooksources') this.queue?.add(event.key);
    });
  }

  start(): void {
    this.election.start();
    // lastEventTime is written at most once a minute: look for sources with newer events that often.
    this.tick = setInterval(() => this.enqueueNewEvents(), LAST_EVENT_WRITE_INTERVAL_MS / 4).unref();
  }

  /** Stops reconciling and releases the lease so another replica leads at once. */
  async stop(): Promise<void> {
    clearInterval(this.tick);
    await this.election.stop();
    await Promise.all(this.workers);
  }

  private lead(): void {
    this.options.metrics.leader.set(1);
    const queue = new WorkQueue();
    this.queue = queue;
    this.seen.clear();
    this.workers = Array.from({ length: this.options.workers ?? 8 }, () => this.work(queue));
    this.enqueueChanged();
  }

  private follow(): void {
    this.options.metrics.leader.set(0);
    this.queue?.shutDown();
    this.queue = undefined;
  }

  private claimOf(object: CachedWebhookSource): ClaimView {
    const status = this.options.registry.statusesAt(originOf(object))[0];
    return status?.state === 'conflict' && status.heldBy ? { holder: 'other', heldBy: describeOrigin(status.heldBy) } : { holder: 'self' };
  }

  /** Every replica reports the Ready states it sees in the cache (the leader's writes, read back). */
  private countSources(): void {
    const objects = this.options.provider.objects();
    const ready = objects.filter((object) => object.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    this.options.metrics.controllerSources.set({ ready: 'true' }, ready);
    this.options.metrics.controllerSources.set({ ready: 'false' }, objects.length - ready);
  }

  private enqueueChanged(): void {
    const queue = this.queue;
    if (!queue || !this.options.provider.synced()) return;
    const { provider } = this.options;
    const present = new Set<string>();
    for (const object of provider.objects()) {
      const key = keyOf(object);
      present.add(key);
      const claim = this.claimOf(object);
      const inputs = `${object.resourceVersion}|${provider.secretOf(object)?.resourceVersion ?? ''}|${claim.holder === 'self' ? '' : claim.heldBy}`;
      if (this.seen.get(key) === inputs) continue;
      this.seen.set(key, inputs);
      queue.add(key);
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
    this.options.metrics.workqueueDepth.set(queue.length());
  }

  private enqueueNewEvents(): void {
    const queue = this.queue;
    if (!queue) return;
    for (const object of this.options.provider.objects()) {
      const lastEventAt = this.options.registry.lastEventAt(sourceNameOf(object));
      const written = object.status.lastEventTime ? Date.parse(object.status.lastEventTime) : 0;
      if (lastEventAt !== undefined && lastEventAt - written >= LAST_EVENT_WRITE_INTERVAL_MS) queue.add(keyOf(object));
    }
  }

  private async work(queue: WorkQueue): Promise<void> {
    const { metrics, logger, provider, client } = this.options;
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      metrics.workqueueDepth.set(queue.length());
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        await reconcile(key, {
          client,
          cache: provider,
          claimOf: (object) => this.claimOf(object),
          lastEventAt: (name) => this.options.registry.lastEventAt(name),
          events: this.events,
          logger,
        });
        queue.forget(key);
      } catch (error) {
        metrics.reconcileErrors.inc();
        metrics.workqueueRetries.inc();
        const delayMs = queue.addRateLimited(key);
        const log = error instanceof CacheBehind ? logger.debug.bind(logger) : logger.warn.bind(logger);
        log({ err: error, key, retryInMs: delayMs }, 'reconcile failed: retrying');
      } finally {
        stopTimer();
        queue.done(key);
      }
    }
  }
}

/** `kubernetes:team-a/edr` → `team-a/edr`; other origins (a file path) as they are. */
function describeOrigin(origin: string): string {
  return origin.startsWith('kubernetes:') ? origin.slice('kubernetes:'.length) : origin;
}
