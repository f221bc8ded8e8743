import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import { isGone, KubeApiError, type KubeClient } from './kube-client.js';

export interface CachedObject {
  namespace: string;
  name: string;
  resourceVersion: string;
}

/** What handlers get: a key (`namespace/name`) to look up in the cache, never the object itself. */
export interface InformerEvent {
  type: 'upsert' | 'delete' | 'resync';
  key: string;
}

export interface InformerTiming {
  /** Asked of the server per watch; client-go picks 5–10 minutes, randomised so watches do not expire together. */
  watchTimeoutSeconds: number;
  /** A watch with no event for this long is dropped as stalled (proxies can swallow a close); the server sends a bookmark about every minute, and re-watching from the last resourceVersion is cheap. */
  watchStallMs: number;
  /** Handlers see every cached key again this often, so a missed or failed reaction is retried. */
  resyncMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  pageSize: number;
}

export const DEFAULT_INFORMER_TIMING: InformerTiming = {
  watchTimeoutSeconds: 300,
  watchStallMs: 150_000,
  resyncMs: 300_000,
  backoffInitialMs: 500,
  backoffMaxMs: 10_000,
  pageSize: 500,
};

export interface InformerHealth {
  /** First full list done (it never goes back to false: the cache keeps serving through outages). */
  synced(resource: string): void;
  /** The list+watch loop started over after an error. */
  restarted(resource: string): void;
  /** A full list replaced the cache. */
  listed(resource: string): void;
}

export interface InformerOptions<T extends CachedObject> {
  /** Label for logs and metrics, e.g. `webhooksources` or `secrets@team-a`. */
  resource: string;
  client: KubeClient;
  /** Collection path, e.g. `/apis/triagewarden.io/v1alpha1/namespaces/team-a/webhooksources`. */
  path: string;
  labelSelector?: string;
  /** Keeps only what the process needs of each object (client-go's SetTransform). */
  transform: (raw: Record<string, unknown>) => T;
  timing: InformerTiming;
  health: InformerHealth;
  logger: Logger;
}

class WatchStalled extends Error {}

/**
 * List+watch with our own supervision, where @kubernetes/client-node falls short: its `Watch` is
 * one request, and its `makeInformer` (2.x) gives up on the first error that is not a 410 or a
 * quiet timeout, with no resync or synced signal (kube-client.ts has the whole verdict). Here:
 * after any error the loop starts over with jittered exponential backoff; 410 Gone (the
 * resourceVersion was compacted away) relists at once; a watch that goes quiet longer than the
 * stall bound is dropped and re-established; every resyncMs the handlers see every key again.
 * The cache is only replaced by a successful list, so an outage leaves the last known objects.
 */
export class Informer<T extends CachedObject> {
  private cache = new Map<string, T>();
  private readonly handlers: ((event: InformerEvent) => void)[] = [];
  private resourceVersion: string | undefined;
  private hasSynced = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private abortWatch: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly stopSignal = new AbortController();

  constructor(private readonly options: InformerOptions<T>) {}

  onEvent(handler: (event: InformerEvent) => void): void {
    this.handlers.push(handler);
  }

  synced(): boolean {
    return this.hasSynced;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  values(): IterableIterator<T> {
    return this.cache.values();
  }

  start(): void {
    this.running = this.run();
    this.resyncTimer = setInterval(() => {
      if (this.hasSynced) for (const key of this.cache.keys()) this.emit({ type: 'resync', key });
    }, this.options.timing.resyncMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.stopSignal.abort();
    this.abortWatch?.();
    await this.running;
  }

  private async run(): Promise<void> {
    const { resource, timing, logger, health } = this.options;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        const eventsSeen = await this.watchOnce();
        if (eventsSeen) failures = 0;
        // A server that closes watches at once would otherwise be asked again in a tight loop.
        else await this.pause(jittered(timing.backoffInitialMs));
      } catch (error) {
        if (this.stopped) break;
        health.restarted(resource);
        if (isGone(error)) {
          logger.info({ resource }, 'watch resourceVersion expired (410 Gone): relisting');
          this.resourceVersion = undefined;
          continue;
        }
        const delay = jittered(Math.min(timing.backoffMaxMs, timing.backoffInitialMs * 2 ** failures));
        failures += 1;
        logger.warn({ resource, err: error, retryInMs: Math.round(delay), failures }, 'informer list/watch failed: serving the cached objects, retrying');
        await this.pause(delay);
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopSignal.signal }).catch(() => undefined);
  }

  /** Replaces the cache with a full list, telling handlers what was added, changed or removed meanwhile. */
  private async relist(): Promise<void> {
    const { client, path, labelSelector, timing, transform, health, resource } = this.options;
    const listed = await client.list<Record<string, unknown>>(path, labelSelector, timing.pageSize);
    if (this.stopped) return;
    const previous = this.cache;
    const next = new Map<string, T>();
    for (const raw of listed.items) {
      const object = transform(raw);
      next.set(keyOf(object), object);
    }
    this.cache = next;
    this.resourceVersion = listed.resourceVersion;
    for (const [key, object] of next) {
      if (previous.get(key)?.resourceVersion !== object.resourceVersion) this.emit({ type: 'upsert', key });
    }
    for (const key of previous.keys()) if (!next.has(key)) this.emit({ type: 'delete', key });
    health.listed(resource);
    if (!this.hasSynced) {
      this.hasSynced = true;
      health.synced(resource);
    }
  }

  /** One watch from the current resourceVersion; resolves when the server ends it, rejects on any error. */
  private watchOnce(): Promise<boolean> {
    const { client, path, labelSelector, timing, transform } = this.options;
    return new Promise<boolean>((resolve, reject) => {
      let finished = false;
      let eventsSeen = false;
      let lastActivity = Date.now();
      let controller: AbortController | undefined;
      const finish = (error: unknown) => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        this.abortWatch = undefined;
        controller?.abort();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the watch's own error, passed on as it came
        if (error) reject(error);
        else resolve(eventsSeen);
      };
      this.abortWatch = () => finish(null);
      const watchdog = setInterval(
        () => {
          if (Date.now() - lastActivity > timing.watchStallMs) finish(new WatchStalled(`no watch event for ${timing.watchStallMs} ms`));
        },
        Math.min(1000, timing.watchStallMs),
      ).unref();
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.round(timing.watchTimeoutSeconds * (1 + Math.random())),
        labelSelector,
      };
      client
        .watch(
          path,
          query,
          (type, raw) => {
            if (finished) return;
            lastActivity = Date.now();
            eventsSeen = true;
            if (type === 'ERROR') {
              const status = raw as { code?: number; reason?: string; message?: string };
              finish(new KubeApiError(status.code ?? 500, status.reason ?? 'WatchError', status.message ?? 'watch error event'));
              return;
            }
            const resourceVersion = (raw.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
            if (resourceVersion) this.resourceVersion = resourceVersion;
            if (type === 'BOOKMARK') return;
            const object = transform(raw);
            const key = keyOf(object);
            if (type === 'DELETED') {
              this.cache.delete(key);
              this.emit({ type: 'delete', key });
            } else {
              this.cache.set(key, object);
              this.emit({ type: 'upsert', key });
            }
          },
          finish,
        )
        .then((abort) => {
          controller = abort;
          if (finished) abort.abort();
        }, finish);
    });
  }

  private emit(event: InformerEvent): void {
    for (const handler of this.handlers) handler(event);
  }
}

export function keyOf(object: { namespace: string; name: string }): string {
  return `${object.namespace}/${object.name}`;
}

/** ±20 %, so replicas that failed together do not retry together. */
function jittered(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4);
}
