import type { Logger } from '../log/logger.js';
import type { Incident } from '../incidents/model.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TriageOutboxStore, TriageOutcome } from '../incidents/ports.js';
import type { PipelineSettings } from '../config/pipeline-settings.js';
import { backoffMs } from './backoff.js';
import { LeaseLoop } from './lease-loop.js';
import type { TriageRunnerClient } from './triage-runner-client.js';

const MAX_RETRY_DELAY_MS = 5 * 60_000;
const CONCURRENCY = 4;

export interface TriageDispatcherDeps {
  outbox: TriageOutboxStore;
  runner: TriageRunnerClient;
  settings: PipelineSettings['triage'];
  metrics: Metrics;
  logger: Logger;
  workerId: string;
  now?: () => Date;
}

/**
 * Delivers pending triage requests to the playbook runner. Runs on every replica: a request is
 * leased for twice the POST timeout, so a dispatcher that dies mid-POST leaves it to another one
 * (the runner sees the same idempotency key twice). Failures retry with exponential backoff and
 * jitter; after `maxAttempts`, or on a response that says "never" (4xx), the request is `failed`.
 */
export class TriageDispatcher {
  private readonly loop: LeaseLoop<Incident>;
  private readonly now: () => Date;

  constructor(private readonly deps: TriageDispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
    const leaseMs = 2 * deps.settings.timeoutMs;
    this.loop = new LeaseLoop({
      name: 'triage',
      claim: () => deps.outbox.claimTriage(deps.workerId, this.now(), leaseMs),
      handle: (incident) => this.dispatch(incident),
      concurrency: CONCURRENCY,
      pollMs: deps.settings.pollMs,
      logger: deps.logger,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async dispatch(incident: Incident): Promise<void> {
    const { attempts } = incident.triage;
    const outcome = await this.outcomeOf(incident);
    const recorded = await this.deps.outbox.finishTriage({ id: incident.id, attempts }, outcome);
    const label = outcome.state === 'pending' ? 'retry' : outcome.state;
    this.deps.metrics.triageDeliveries.inc({ outcome: recorded ? label : 'lease_lost' });
    const fields = { incident: incident.number, playbook: incident.triage.playbook, attempts, outcome: label };
    if (outcome.state === 'dispatched') this.deps.logger.info(fields, 'triage request dispatched');
    else this.deps.logger.warn({ ...fields, error: outcome.error }, 'triage request not dispatched');
  }

  private async outcomeOf(incident: Incident): Promise<TriageOutcome> {
    const { attempts } = incident.triage;
    const { maxAttempts } = this.deps.settings;
    if (attempts > maxAttempts)
      return { state: 'failed', error: `gave up after ${maxAttempts} attempts; last error: ${incident.triage.lastError ?? 'lease expired'}` };
    const result = await this.deps.runner.send(incident, attempts);
    if (result.ok) return { state: 'dispatched', at: this.now().toISOString() };
    if (!result.retryable || attempts >= maxAttempts) return { state: 'failed', error: result.error };
    const next = new Date(this.now().getTime() + backoffMs(attempts, this.deps.settings.retryBaseMs, MAX_RETRY_DELAY_MS));
    return { state: 'pending', error: result.error, nextAttemptAt: next.toISOString() };
  }
}
