import type { Logger } from '../log/logger.js';
import type { SourceClaim, SourceProvider } from '../sources/source.js';
import { Informer, keyOf, type InformerEvent, type InformerHealth, type InformerTiming } from './informer.js';
import type { KubeClient } from './kube-client.js';
import { SECRET_SELECTOR, webhookSourcePath } from './webhook-source-crd.js';
import {
  previousKeyExpired,
  resolveSecret,
  toClaim,
  toSecretObject,
  toCachedWebhookSource,
  type SecretObject,
  type CachedWebhookSource,
} from './webhook-source.js';

const QUIET_MS = 50;
const MAX_DELAY_MS = 500;

export interface KubernetesSourceProviderOptions {
  client: KubeClient;
  /** Namespaces to watch; empty watches the whole cluster. */
  namespaces: readonly string[];
  timing: InformerTiming;
  health: InformerHealth;
  logger: Logger;
}

/**
 * Sources from WebhookSource objects and their labelled Secrets, read through informers (one pair
 * per watched namespace, or one cluster-wide pair). Lookups never reach the API server: every
 * change rebuilds the set of claims from the caches, dated by creation time, so when two objects
 * claim one name the registry keeps the older one and reports the other.
 */
export class KubernetesSourceProvider implements SourceProvider {
  readonly id = 'kubernetes';
  private readonly sourceInformers: Informer<CachedWebhookSource>[];
  private readonly secretInformers = new Map<string, Informer<SecretObject>>();
  private readonly listeners: ((claims: readonly SourceClaim[]) => void)[] = [];
  private readonly eventHandlers: ((event: InformerEvent & { resource: 'webhooksources' | 'secrets' }) => void)[] = [];
  private emitted = false;
  private rebuildTimer: NodeJS.Timeout | undefined;
  /** Rebuilds when the next previous key expires, so it stops verifying on time. */
  private expiryTimer: NodeJS.Timeout | undefined;
  private firstPendingAt: number | undefined;
  /** Per object key, the claim built for its current version and its Secret's: unchanged objects are not rebuilt. */
  private claims = new Map<string, { versions: string; claim: SourceClaim }>();

  constructor(private readonly options: KubernetesSourceProviderOptions) {
    const { client, timing, logger } = options;
    // An empty namespace lists nothing and so changes nothing: its first sync must trigger a build too.
    const health: InformerHealth = { ...options.health, synced: (resource) => (options.health.synced(resource), this.scheduleRebuild()) };
    const scopes = options.namespaces.length > 0 ? options.namespaces : [undefined];
    this.sourceInformers = scopes.map((namespace) => {
      const informer = new Informer({
        resource: namespace ? `webhooksources@${namespace}` : 'webhooksources',
        client,
        path: webhookSourcePath(namespace),
        transform: toCachedWebhookSource,
        timing,
        health,
        logger,
      });
      informer.onEvent((event) => this.changed({ ...event, resource: 'webhooksources' }));
      return informer;
    });
    for (const namespace of scopes) {
      const informer = new Informer({
        resource: namespace ? `secrets@${namespace}` : 'secrets',
        client,
        path: `/api/v1${namespace ? `/namespaces/${namespace}` : ''}/secrets`,
        labelSelector: SECRET_SELECTOR,
        transform: toSecretObject,
        timing,
        health,
        logger,
      });
      informer.onEvent((event) => this.changed({ ...event, resource: 'secrets' }));
      this.secretInformers.set(namespace ?? '', informer);
    }
  }

  onChange(listener: (claims: readonly SourceClaim[]) => void): void {
    this.listeners.push(listener);
  }

  /** Every informer event, after the cache took it in (the controller enqueues keys from these). */
  onCacheEvent(handler: (event: InformerEvent & { resource: 'webhooksources' | 'secrets' }) => void): void {
    this.eventHandlers.push(handler);
  }

  /** Starts the informers and returns at once: readiness (synced) follows the first full lists. */
  async start(): Promise<void> {
    for (const informer of this.informers()) informer.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.rebuildTimer);
    clearTimeout(this.expiryTimer);
    await Promise.all(this.informers().map((informer) => informer.stop()));
  }

  synced(): boolean {
    return this.emitted;
  }

  object(key: string): CachedWebhookSource | undefined {
    for (const informer of this.sourceInformers) {
      const object = informer.get(key);
      if (object) return object;
    }
    return undefined;
  }

  objects(): CachedWebhookSource[] {
    return this.sourceInformers.flatMap((informer) => [...informer.values()]);
  }

  /** The cached labelled Secret a WebhookSource references: same namespace, by construction. */
  secretOf(object: CachedWebhookSource): SecretObject | undefined {
    const informer = this.secretInformers.get(object.namespace) ?? this.secretInformers.get('');
    return informer?.get(keyOf({ namespace: object.namespace, name: object.spec.secretRef.name }));
  }

  private informers(): Informer<CachedWebhookSource | SecretObject>[] {
    return [...this.sourceInformers, ...this.secretInformers.values()] as Informer<CachedWebhookSource | SecretObject>[];
  }

  private changed(event: InformerEvent & { resource: 'webhooksources' | 'secrets' }): void {
    for (const handler of this.eventHandlers) handler(event);
    if (event.type !== 'resync') this.scheduleRebuild();
  }

  /**
   * Rebuilds once changes pause for the quiet window, and at least every max window while they keep
   * coming: one `kubectl apply` is live within the quiet window, a bulk apply of a thousand objects
   * costs a few rebuilds a second instead of one per object.
   */
  private scheduleRebuild(): void {
    const now = Date.now();
    this.firstPendingAt ??= now;
    clearTimeout(this.rebuildTimer);
    const delay = Math.min(QUIET_MS, Math.max(0, this.firstPendingAt + MAX_DELAY_MS - now));
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      this.firstPendingAt = undefined;
      this.rebuild();
    }, delay);
  }

  private rebuild(): void {
    if (!this.informers().every((informer) => informer.synced())) return;
    const built = new Map<string, { versions: string; claim: SourceClaim }>();
    const nowMs = Date.now();
    let nextExpiry = Infinity;
    const claims = this.objects().map((object) => {
      const key = keyOf(object);
      const secret = this.secretOf(object);
      const expired = previousKeyExpired(object, nowMs);
      if (!expired && object.previousKeyExpiresAt !== undefined) nextExpiry = Math.min(nextExpiry, object.previousKeyExpiresAt);
      const versions = `${object.resourceVersion}/${secret?.resourceVersion ?? ''}/${expired}`;
      const previous = this.claims.get(key);
      const entry = previous?.versions === versions ? previous : { versions, claim: toClaim(object, resolveSecret(object, secret, nowMs)) };
      built.set(key, entry);
      return entry.claim;
    });
    this.claims = built;
    clearTimeout(this.expiryTimer);
    // setTimeout holds at most ~24.8 days; a later expiry is re-armed by the rebuild this one makes.
    if (nextExpiry !== Infinity) this.expiryTimer = setTimeout(() => this.rebuild(), Math.min(nextExpiry - nowMs + 1, 2 ** 31 - 1)).unref();
    for (const listener of this.listeners) listener(claims);
    if (!this.emitted) this.options.logger.info({ sources: claims.length }, 'kubernetes sources synced');
    this.emitted = true;
  }
}
