import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import { isNotFound, type KubeClient } from '../kubernetes/kube-client.js';
import type { LeaseTiming } from '../config/kubernetes-settings.js';
import { decideLease, newLease, nowMicros, releasedLease, type LeaseSpec } from './lease.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  timing: LeaseTiming;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec?: LeaseSpec;
}

/** client-go's wait.JitterUntil factor for the retry period. */
const JITTER = 1.2;

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: candidates try
 * every retry period (jittered); the leader renews every retry period and steps down when it could
 * not renew within the renew deadline, then campaigns again; on stop the leader clears the holder
 * so the next candidate takes over at once instead of waiting out the lease. Writes are updates
 * with the read resourceVersion, so two candidates can never both win one round.
 */
export class LeaderElection {
  private leading = false;
  /** When the leader last renewed (our clock). */
  private lastRenewal = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  /** The last record seen and when (our clock): expiry is measured from here. */
  private observed: { text: string; at: number } = { text: '', at: 0 };
  private readonly path: string;

  constructor(private readonly options: LeaderElectionOptions) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`;
  }

  start(): void {
    this.running = this.run();
  }

  /** Stops campaigning; a leader releases the lease first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    await this.running;
    if (this.leading) {
      this.setLeading(false);
      await this.release().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not release the leader lease; it expires on its own'));
    }
  }

  private async run(): Promise<void> {
    const { timing, logger } = this.options;
    while (!this.stopped) {
      const outcome = await this.tryAcquireOrRenew();
      if (outcome === 'ours') {
        this.lastRenewal = Date.now();
        if (!this.leading) logger.info({ lease: this.options.name, identity: this.options.identity }, 'became the leader');
        this.setLeading(true);
      } else if (this.leading && outcome === 'held') {
        logger.warn({ lease: this.options.name }, 'another candidate holds the leader lease: stepping down');
        this.setLeading(false);
      } else if (this.leading && Date.now() - this.lastRenewal > timing.renewDeadlineSeconds * 1000) {
        logger.warn({ lease: this.options.name }, 'could not renew the leader lease within the renew deadline: stepping down');
        this.setLeading(false);
      }
      await sleep(timing.retryPeriodSeconds * 1000 * (this.leading ? 1 : 1 + Math.random() * (JITTER - 1)), undefined, {
        signal: this.stopSignal.signal,
      }).catch(() => undefined);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  /** One round: the lease is ours now, someone else holds it, or the API could not be reached (logged). */
  private async tryAcquireOrRenew(): Promise<'ours' | 'held' | 'failed'> {
    const { client, name, namespace, identity, timing, logger } = this.options;
    const deadline = timing.renewDeadlineSeconds * 1000;
    try {
      const now = nowMicros();
      const current = await this.withDeadline(client.request<LeaseObject>('GET', `${this.path}/${name}`), deadline).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (!current) {
        const spec = newLease(identity, timing.durationSeconds, now);
        await this.withDeadline(
          client.request('POST', this.path, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec }),
          deadline,
        );
        this.observed = { text: JSON.stringify(spec), at: now };
        return 'ours';
      }
      const spec = current.spec ?? {};
      const text = JSON.stringify(spec);
      if (text !== this.observed.text) this.observed = { text, at: now };
      const decision = decideLease(spec, identity, timing.durationSeconds, now, this.observed.at);
      if (decision.kind === 'held') return 'held';
      await this.withDeadline(client.request('PUT', `${this.path}/${name}`, { ...current, spec: decision.spec }), deadline);
      this.observed = { text: JSON.stringify(decision.spec), at: now };
      return 'ours';
    } catch (error) {
      logger.debug({ err: error, lease: name }, 'leader lease attempt failed');
      return 'failed';
    }
  }

  private async release(): Promise<void> {
    const { client, name } = this.options;
    const current = await client.request<LeaseObject>('GET', `${this.path}/${name}`);
    if ((current.spec?.holderIdentity ?? '') !== this.options.identity) return;
    await client.request('PUT', `${this.path}/${name}`, { ...current, spec: releasedLease(current.spec ?? {}, nowMicros()) });
    this.options.logger.info({ lease: name }, 'released the leader lease');
  }

  private withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
