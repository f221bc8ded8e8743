import type { Source, SourceProvider } from './source.js';

/** A name declared by more than one provider (or twice by one). The first claimant keeps serving it. */
export interface SourceConflict {
  name: string;
  /** Provider ids of every claimant, the one serving the name first. */
  providers: readonly string[];
  /** Where each claimant was declared (same order), e.g. `file:/etc/tw/webhook_config.yaml`. */
  origins: readonly string[];
}

export interface SourceRegistryOptions {
  /** Called once per conflict when it appears (for logs, metrics, status conditions), not on every rebuild. */
  onConflict?: (conflict: SourceConflict) => void;
}

/**
 * Merges the providers' source sets into one in-memory index. Lookups are a Map read; each change
 * builds a new Map and swaps it in whole, so a request sees one consistent snapshot. Precedence is
 * the providers' registration order: a name claimed twice stays with the earlier provider and the
 * conflict is reported, never silently overridden.
 */
export class SourceRegistry {
  private readonly sets: (readonly Source[])[];
  private index = new Map<string, Source>();
  private currentConflicts = new Map<string, SourceConflict>();
  private readonly changeListeners: ((sources: readonly Source[]) => void)[] = [];

  constructor(
    private readonly providers: readonly SourceProvider[],
    private readonly options: SourceRegistryOptions = {},
  ) {
    this.sets = providers.map(() => []);
    providers.forEach((provider, position) =>
      provider.onChange((sources) => {
        this.sets[position] = sources;
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

  /** true once every provider has delivered its first complete set (readiness). */
  ready(): boolean {
    return this.providers.every((provider) => provider.synced());
  }

  conflicts(): readonly SourceConflict[] {
    return [...this.currentConflicts.values()];
  }

  /** Called with the merged set after every change, e.g. to drop rate-limit buckets of removed sources. */
  onChange(listener: (sources: readonly Source[]) => void): void {
    this.changeListeners.push(listener);
  }

  private rebuild(): void {
    const index = new Map<string, Source>();
    const claimants = new Map<string, { provider: string; source: Source }[]>();
    this.sets.forEach((sources, position) => {
      const provider = this.providers[position]!.id;
      for (const source of sources) {
        const claims = claimants.get(source.name);
        if (claims) claims.push({ provider, source });
        else {
          claimants.set(source.name, [{ provider, source }]);
          index.set(source.name, source);
        }
      }
    });
    this.index = index;
    this.reportConflicts(claimants);
    const merged = [...index.values()];
    for (const listener of this.changeListeners) listener(merged);
  }

  private reportConflicts(claimants: Map<string, { provider: string; source: Source }[]>): void {
    const conflicts = new Map<string, SourceConflict>();
    for (const [name, claims] of claimants) {
      if (claims.length < 2) continue;
      const conflict = {
        name,
        providers: claims.map((claim) => claim.provider),
        origins: claims.map((claim) => claim.source.origin),
      };
      conflicts.set(name, conflict);
      if (!sameConflict(this.currentConflicts.get(name), conflict)) this.options.onConflict?.(conflict);
    }
    this.currentConflicts = conflicts;
  }
}

function sameConflict(previous: SourceConflict | undefined, next: SourceConflict): boolean {
  return previous !== undefined && previous.origins.join('\n') === next.origins.join('\n');
}
