import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import type { CursorPosition } from '../incidents/cursor.js';
import { retentionRules, type RetentionRule, type SourceRetention } from '../incidents/retention.js';
import type { RetentionSettings } from '../config/data-settings.js';

export interface IncidentRetentionDeps {
  store: Store;
  /** The sources served now: their overrides are read at each round. */
  sources: { list(): readonly SourceRetention[] };
  settings: RetentionSettings;
  metrics: Metrics;
  logger: Logger;
  /** Incidents a store call deletes or looks at (default 100: about 25 ms of the store thread, see docs/operations.md). */
  batchSize?: number;
  /** Pause between two store calls of a round, so requests get the store in between (default 20 ms). */
  pauseMs?: number;
  /** Between rounds (default 10 min). */
  everyMs?: number;
  now?: () => Date;
}

export interface RetentionRound {
  rawBodiesDropped: number;
  incidentsDeleted: number;
  /** Free pages the embedded store gave back. */
  pagesReclaimed: number;
  ms: number;
}

/** Raw bodies dropped before this are looked at again once a day (see below). */
const RESCAN_MS = 86_400_000;

/**
 * Retention as every replica runs it (docs/operations.md, "Retention"): at start and every 10
 * minutes, the rules of retention.ts applied in bounded batches with a pause between them, so the
 * receiver never waits behind more than one batch: the expired incidents, then the expired raw
 * bodies of those that stay, then (the embedded store) the freed space given back a step at a time. A raw body scan continues where
 * the last round stopped; it starts over once a day, for the incidents that were pending triage
 * when it passed them. Deleting twice is harmless, so replicas need no coordination.
 */
export class IncidentRetention {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;
  private stopped = false;
  /** Per rule scope: where the raw body scan continues, and since when. */
  private readonly rawScans = new Map<string, { after: CursorPosition | undefined; sinceMs: number }>();
  private readonly now: () => Date;

  constructor(private readonly deps: IncidentRetentionDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  start(): void {
    const run = () => {
      this.round ??= this.runRound()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'retention round failed; the next one catches up'))
        .finally(() => (this.round = undefined));
    };
    run();
    this.timer = setInterval(run, this.deps.everyMs ?? 10 * 60_000).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
  }

  /** One round over every rule; resolves what it did. */
  async runRound(): Promise<RetentionRound> {
    const started = performance.now();
    const rules = retentionRules(this.deps.sources.list(), this.deps.settings, this.now());
    const round: RetentionRound = { rawBodiesDropped: 0, incidentsDeleted: 0, pagesReclaimed: 0, ms: 0 };
    for (const rule of rules) {
      // Incidents first: a raw body whose incident goes anyway is not worth rewriting its row for.
      if (rule.incidentsBefore) round.incidentsDeleted += await this.deleteIncidents(rule, rule.incidentsBefore);
      if (rule.rawBodiesBefore) round.rawBodiesDropped += await this.dropRawBodies(rule, rule.rawBodiesBefore);
    }
    // Every round, not only after its own deletions: pages freed by the queue's prune, or by a round cut short by a stop, go back too.
    round.pagesReclaimed = await this.reclaim();
    round.ms = Math.round(performance.now() - started);
    const { metrics, store } = this.deps;
    metrics.pruned.inc({ store: store.kind, what: 'raw_bodies' }, round.rawBodiesDropped);
    metrics.pruned.inc({ store: store.kind, what: 'incidents' }, round.incidentsDeleted);
    if (round.rawBodiesDropped + round.incidentsDeleted + round.pagesReclaimed > 0) this.deps.logger.info(round, 'retention: pruned incidents and raw bodies');
    return round;
  }

  private async dropRawBodies(rule: RetentionRule, before: string): Promise<number> {
    const key = JSON.stringify(rule.scope);
    const nowMs = this.now().getTime();
    let scan = this.rawScans.get(key);
    if (!scan || nowMs - scan.sinceMs > RESCAN_MS) scan = { after: undefined, sinceMs: nowMs };
    let dropped = 0;
    while (!this.stopped) {
      const step = await this.deps.store.pruneRawBodies({ scope: rule.scope, before, after: scan.after, limit: this.batchSize });
      dropped += step.dropped;
      // Where the next round continues: after the last one looked at, or there again when this was the end.
      if (step.next === undefined) break;
      scan.after = step.next;
      await this.pause();
    }
    this.rawScans.set(key, scan);
    return dropped;
  }

  private async deleteIncidents(rule: RetentionRule, before: string): Promise<number> {
    let deleted = 0;
    while (!this.stopped) {
      const step = await this.deps.store.pruneIncidents({ scope: rule.scope, before, limit: this.batchSize });
      deleted += step;
      if (step < this.batchSize) break;
      await this.pause();
    }
    return deleted;
  }

  /** Gives freed pages back a step at a time, until none are left or a step gives none (a file that cannot, see free-space.ts). */
  private async reclaim(): Promise<number> {
    const { store } = this.deps;
    let reclaimed = 0;
    while (store.reclaimSpace && !this.stopped) {
      const step = await store.reclaimSpace();
      reclaimed += step.pages;
      if (step.pages === 0 || step.left === 0) break;
      await this.pause();
    }
    return reclaimed;
  }

  private get batchSize(): number {
    return this.deps.batchSize ?? 100;
  }

  private pause(): Promise<void> {
    return sleep(this.deps.pauseMs ?? 20);
  }
}
