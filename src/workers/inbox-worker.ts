import type { Logger } from '../log/logger.js';
import { doneOutcome, type Ingest } from '../ingest/ingest.js';
import type { SourceLookup } from '../sources/source.js';
import type { Metrics } from '../metrics/metrics.js';
import type { InboxStore, QueueEntry, QueueOutcome } from '../incidents/ports.js';
import type { PipelineSettings } from '../config/pipeline-settings.js';
import { backoffMs } from './backoff.js';
import { LeaseLoop } from './lease-loop.js';
import { schedulePrune } from '../store/retention.js';

const MAX_RETRY_DELAY_MS = 5 * 60_000;
const DEPTH_REFRESH_MS = 5_000;

export interface InboxWorkerDeps {
  inbox: InboxStore;
  ingest: Ingest;
  sources: SourceLookup;
  settings: PipelineSettings['queue'];
  metrics: Metrics;
  logger: Logger;
  workerId: string;
  now?: () => Date;
}

/**
 * Runs queued deliveries through the same ingest use-case as the webhook route. Every replica runs
 * one; entries are leased, so a worker that dies mid-entry only delays it by the lease. A payload
 * that cannot become an incident, or an entry that failed `maxAttempts` times, ends `dead`. Ended
 * entries stay readable (`GET /api/queue/:id`) for `retentionHours`, then each replica's periodic
 * prune deletes them (deleting twice is harmless).
 */
export class InboxWorker {
  private readonly loop: LeaseLoop<QueueEntry>;
  private readonly now: () => Date;
  private depthTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: InboxWorkerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.loop = new LeaseLoop({
      name: 'inbox',
      claim: () => deps.inbox.claimEntry(deps.workerId, this.now(), deps.settings.leaseMs),
      handle: (entry) => this.process(entry),
      concurrency: deps.settings.concurrency,
      pollMs: deps.settings.pollMs,
      logger: deps.logger,
    });
  }

  start(): void {
    this.loop.start();
    this.depthTimer = setInterval(() => void this.refreshDepth(), DEPTH_REFRESH_MS).unref();
    this.pruneTimer = schedulePrune({
      hours: this.deps.settings.retentionHours,
      prune: async (before) => {
        const pruned = await this.deps.inbox.pruneEntries(before);
        if (pruned > 0) this.deps.logger.info({ pruned, before }, 'pruned ended queue entries');
      },
      logger: this.deps.logger,
      failure: 'queue prune failed; next round will catch up',
      now: this.now,
    });
  }

  /** An entry was just queued here: process it now rather than at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.depthTimer);
    clearInterval(this.pruneTimer);
    await this.loop.stop();
  }

  private async process(entry: QueueEntry): Promise<void> {
    const outcome = await this.outcomeOf(entry);
    const recorded = await this.deps.inbox.finishEntry({ id: entry.id, attempts: entry.attempts }, outcome, this.now());
    const label = outcome.status === 'queued' ? 'retry' : outcome.status;
    this.deps.metrics.queueProcessed.inc({ outcome: recorded ? label : 'lease_lost' });
    const fields = { queueId: entry.id, source: entry.source, attempts: entry.attempts, outcome: label };
    if (outcome.status === 'done') {
      this.deps.logger.info({ ...fields, incident: outcome.incidentNumber }, outcome.incidentNumber ? 'queued delivery processed' : 'queued delivery filtered');
    } else this.deps.logger.warn({ ...fields, error: outcome.error }, 'queued delivery not processed');
  }

  private async outcomeOf(entry: QueueEntry): Promise<QueueOutcome> {
    const { maxAttempts } = this.deps.settings;
    // More claims than attempts allowed: earlier holders died or timed out on it, stop here.
    if (entry.attempts > maxAttempts)
      return { status: 'dead', error: `gave up after ${maxAttempts} attempts; last error: ${entry.lastError ?? 'lease expired'}` };
    const source = this.deps.sources.get(entry.source);
    let failure: string;
    if (!source?.enabled) {
      failure = `unknown_source: source '${entry.source}' is not registered`;
    } else {
      try {
        const result = await this.deps.ingest(source, {
          rawBody: entry.body,
          headers: Object.fromEntries(entry.headers),
          receivedAt: new Date(entry.receivedAt),
        });
        // A payload that is not an incident never will be: dead-letter it at once.
        if (!result.ok) return { status: 'dead', error: `${result.error.code}: ${result.error.message}` };
        const { filterErrors } = result.value;
        if (filterErrors.length > 0) {
          this.deps.metrics.filterErrors.inc({ source: entry.source }, filterErrors.length);
          this.deps.logger.warn({ queueId: entry.id, source: entry.source, errors: filterErrors }, 'filter expressions could not be evaluated');
        }
        if (result.value.filtered) this.deps.metrics.filtered.inc({ source: entry.source });
        return doneOutcome(result.value);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    if (entry.attempts >= maxAttempts) return { status: 'dead', error: failure };
    const dueAt = new Date(this.now().getTime() + backoffMs(entry.attempts, this.deps.settings.retryBaseMs, MAX_RETRY_DELAY_MS));
    return { status: 'queued', error: failure, dueAt: dueAt.toISOString() };
  }

  private async refreshDepth(): Promise<void> {
    try {
      this.deps.metrics.queueDepth.set(await this.deps.inbox.countOpenEntries());
    } catch {
      // store down: keep the last known depth
    }
  }
}
