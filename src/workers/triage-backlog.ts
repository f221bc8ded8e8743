import type { TriageOutboxStore } from '../incidents/ports.js';
import type { Metrics } from '../metrics/metrics.js';

const REFRESH_MS = 5_000;

/**
 * Keeps `triage_outbox_pending` at the outbox backlog (all replicas), counted in the store every
 * few seconds. It runs whether or not a playbook runner is configured: without one, requests pile
 * up pending, and that is exactly when the gauge (and the alert on it) must not read 0.
 */
export class TriageBacklog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: Pick<TriageOutboxStore, 'countPendingTriage'>,
    private readonly metrics: Pick<Metrics, 'triageOutboxPending'>,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      this.metrics.triageOutboxPending.set(await this.outbox.countPendingTriage());
    } catch {
      // store down: keep the last known backlog
    }
  }
}
