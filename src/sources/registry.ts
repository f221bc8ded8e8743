import type { ServedSources, Source, SourceClaim, SourceProvider } from './source.js';

/** A name declared by more than one provider (or twice by one). The oldest claimant keeps it. */
export interface SourceConflict {
  name: string;
  /** Provider ids of every claimant, the one holding the name first. */
  providers: readonly string[];
  /** Where each claimant was declared (same order), e.g. `file:/etc/tw/webhook_config.yaml`. */
  origins: readonly string[];
}

/**
 * What became of one claim: `serving`; `suspended` (holds the name, answers unknown_source);
 * `invalid` (holds the name but cannot be served, e.g. its Secret is missing: the provider's
 * reason); `conflict` (another claimant holds the name: `heldBy` is its origin).
 */
type ClaimState = 'serving' | 'suspended' | 'invalid' | 'conflict';

export interface SourceStatus {
  name: string;
  origin: string;
  /** Id of the provider that declared it. */
  provider: string;
  state: ClaimState;
  /** For `conflict`: the origin of the claim that holds the name. */
  heldBy?: string;
  /** CamelCase, fit for a Kubernetes condition; undefined while serving. */
  reason?: string;
  message?: string;
}

/** The reasons the registry itself gives; `invalid` claims carry their provider's. */
export const STATUS_REASONS = { conflict: 'SourceConflict', suspended: 'Suspended' } as const;

export interface SourceRegistryOptions {
  /** Called once per conflict when it appears (for logs, metrics), not on every rebuild. */
  onConflict?: (conflict: SourceConflict) => void;
}

interface RankedClaim {
  claim: SourceClaim;
  provider: string;
  /** The provider's registration position. */
  position: number;
}

/**
 * Merges the providers' claims into one in-memory index. Lookups are a Map read; each change
 * builds a new Map and swaps it in whole, so a request sees one consistent snapshot.
 *
 * A name claimed more than once goes to the oldest claim (`claimedAt`, e.g. two WebhookSource
 * objects: the older keeps it); claims without a time (the file) rank before any dated one; ties
 * go to the provider registered first, then to the origin that sorts first. The holder
 * keeps the name even while it is suspended or invalid, so fixing or deleting the older object —
 * not a passing Secret outage — is what moves a name. Every claimant's state is kept for status
 * reporting (`statusesAt`, `onStatus`); the conflict is never silent.
 */
export class SourceRegistry implements ServedSources {
  private readonly sets: (readonly SourceClaim[])[];
  private index = new Map<string, Source>();
  private currentConflicts = new Map<string, SourceConflict>();
  /** By origin; an origin may declare several names (the file). */
  private currentStatuses = new Map<string, SourceStatus[]>();
  private readonly lastEvents = new Map<string, number>();
  private readonly changeListeners: ((sources: readonly Source[]) => void)[] = [];
  private readonly statusListeners: ((changed: readonly SourceStatus[]) => void)[] = [];

  constructor(
    private readonly providers: readonly SourceProvider[],
    private readonly options: SourceRegistryOptions = {},
  ) {
    this.sets = providers.map(() => []);
    providers.forEach((provider, position) =>
      provider.onChange((claims) => {
        this.sets[position] = claims;
        this.rebuild();
      }),
    );
  }

  /** Starts every provider; rejects if any fails to start (e.g. a bad config file at start-up). */
  async start(): Promise<void> {
    await Promise.all(this.providers.map((provider) => provider.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.providers.map((provider) => provider.stop()));
  }

  get(name: string): Source | undefined {
    return this.index.get(name);
  }

  list(): readonly Source[] {
    return [...this.index.values()];
  }

  /** true once every provider has delivered its first complete set and none reports a problem (readiness). */
  ready(): boolean {
    return this.providers.every((provider) => provider.synced()) && this.problem() === undefined;
  }

  /** The first provider's problem (e.g. stored secrets that do not open), for /readyz. */
  problem(): string | undefined {
    for (const provider of this.providers) {
      const problem = provider.unservable?.();
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  /** The state of the claims declared at `origin`: one per Kubernetes object, one per source for the file. */
  statusesAt(origin: string): readonly SourceStatus[] {
    return this.currentStatuses.get(origin) ?? [];
  }

  /** Called after every change with the claims whose state is new or changed (not on unchanged rebuilds). */
  onStatus(listener: (changed: readonly SourceStatus[]) => void): void {
    this.statusListeners.push(listener);
  }

  /** Notes an accepted event. On the hot path: one Map write. */
  recordEvent(name: string, atMs: number): void {
    this.lastEvents.set(name, atMs);
  }

  /** When the last event of a registered source was accepted by this process (ms since the epoch). */
  lastEventAt(name: string): number | undefined {
    return this.lastEvents.get(name);
  }

  /** Called with the merged set after every change, e.g. to drop rate-limit buckets of removed sources. */
  onChange(listener: (sources: readonly Source[]) => void): void {
    this.changeListeners.push(listener);
  }

  private rebuild(): void {
    const claimants = new Map<string, RankedClaim[]>();
    this.sets.forEach((claims, position) => {
      const provider = this.providers[position]!.id;
      for (const claim of claims) {
        const ranked = claimants.get(claim.name);
        if (ranked) ranked.push({ claim, provider, position });
        else claimants.set(claim.name, [{ claim, provider, position }]);
      }
    });

    const index = new Map<string, Source>();
    const statuses: SourceStatus[] = [];
    const conflicts = new Map<string, SourceConflict>();
    for (const [name, ranked] of claimants) {
      if (ranked.length > 1) ranked.sort(byPrecedence);
      const [holder, ...others] = ranked as [RankedClaim, ...RankedClaim[]];
      if (holder.claim.source.ok) index.set(name, holder.claim.source.value);
      statuses.push(holderStatus(holder));
      for (const other of others) {
        statuses.push({
          ...identity(other),
          state: 'conflict',
          heldBy: holder.claim.origin,
          reason: STATUS_REASONS.conflict,
          message: `source name '${name}' is held by ${holder.claim.origin}, an older claim`,
        });
      }
      if (others.length > 0) {
        conflicts.set(name, { name, providers: ranked.map((r) => r.provider), origins: ranked.map((r) => r.claim.origin) });
      }
    }

    this.index = index;
    for (const name of this.lastEvents.keys()) if (!index.has(name)) this.lastEvents.delete(name);
    const changed = this.swapStatuses(statuses);
    const previousConflicts = this.currentConflicts;
    this.currentConflicts = conflicts;

    const merged = [...index.values()];
    for (const listener of this.changeListeners) listener(merged);
    for (const [name, conflict] of conflicts) {
      if (!sameConflict(previousConflicts.get(name), conflict)) this.options.onConflict?.(conflict);
    }
    if (changed.length > 0) for (const listener of this.statusListeners) listener(changed);
  }

  /** Installs the new statuses and returns those that are new or differ from before. */
  private swapStatuses(statuses: readonly SourceStatus[]): SourceStatus[] {
    const previous = new Map<string, SourceStatus>();
    for (const list of this.currentStatuses.values()) for (const status of list) previous.set(claimKey(status), status);
    const byOrigin = new Map<string, SourceStatus[]>();
    const changed: SourceStatus[] = [];
    for (const status of statuses) {
      const list = byOrigin.get(status.origin);
      if (list) list.push(status);
      else byOrigin.set(status.origin, [status]);
      if (!sameStatus(previous.get(claimKey(status)), status)) changed.push(status);
    }
    this.currentStatuses = byOrigin;
    return changed;
  }
}

/**
 * Oldest first, undated first; then provider order; then origin, so replicas whose informers list
 * objects in different orders still agree (creation times have whole seconds). The sort is stable:
 * one origin declaring a name twice keeps its own order.
 */
function byPrecedence(a: RankedClaim, b: RankedClaim): number {
  return age(a.claim) - age(b.claim) || a.position - b.position || compareText(a.claim.origin, b.claim.origin);
}

/** Undated claims rank first (a finite stand-in, so the comparison never yields NaN). */
function age(claim: SourceClaim): number {
  return claim.claimedAt ?? Number.MIN_SAFE_INTEGER;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function identity({ claim, provider }: RankedClaim): Pick<SourceStatus, 'name' | 'origin' | 'provider'> {
  return { name: claim.name, origin: claim.origin, provider };
}

function holderStatus(holder: RankedClaim): SourceStatus {
  const { source } = holder.claim;
  if (!source.ok) return { ...identity(holder), state: 'invalid', reason: source.error.reason, message: source.error.message };
  if (!source.value.enabled) {
    return { ...identity(holder), state: 'suspended', reason: STATUS_REASONS.suspended, message: 'suspended: requests answer unknown_source' };
  }
  return { ...identity(holder), state: 'serving' };
}

function claimKey(status: SourceStatus): string {
  return `${status.origin}\n${status.name}`;
}

function sameStatus(previous: SourceStatus | undefined, next: SourceStatus): boolean {
  return (
    previous !== undefined &&
    previous.provider === next.provider &&
    previous.state === next.state &&
    previous.heldBy === next.heldBy &&
    previous.reason === next.reason &&
    previous.message === next.message
  );
}

function sameConflict(previous: SourceConflict | undefined, next: SourceConflict): boolean {
  return previous !== undefined && previous.origins.join('\n') === next.origins.join('\n');
}
