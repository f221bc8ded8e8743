import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Label value for requests to names that are not registered: keeps label cardinality bounded. */
export const UNKNOWN_SOURCE_LABEL = '_unknown';

/** A store's health as tw_store_healthy reports it. */
export interface StoreHealthSample {
  store: string;
  healthy: boolean;
}

/** The one metrics registry of the process, created by start() and passed to whoever records. */
export function createMetrics() {
  const registry = new Registry();
  // Read at each scrape, so the gauge is what /readyz would say; set once the store exists.
  let storeHealth: (() => StoreHealthSample) | undefined;
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool check
  // metrics refuses them); the same numbers by type remain as nodejs_active_{handles,requests,resources}.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return {
    registry,
    webhookReceived: new Counter({
      name: 'webhook_received_total',
      help: 'Webhook requests received, by source',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    webhookErrors: new Counter({
      name: 'webhook_errors_total',
      help: 'Webhook requests rejected, by source and error code',
      labelNames: ['source', 'code'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'webhook_request_duration_seconds',
      help: 'Time from request start to response, by source and status class',
      labelNames: ['source', 'status_class'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    lastReceived: new Gauge({
      name: 'webhook_last_received_timestamp_seconds',
      help: 'Unix time of the last delivery answered 2xx (stored or queued), by source: alerts on silent senders',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    incidentsCreated: new Counter({
      name: 'webhook_incidents_created_total',
      help: 'Incidents created from webhooks, by source and severity',
      labelNames: ['source', 'severity'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'webhook_duplicates_total',
      help: 'Deliveries recognized as repeats of a stored event, by source',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    filtered: new Counter({
      name: 'webhook_filtered_total',
      help: "Deliveries the source's filter filtered out (answered 200 filtered, not stored), by source",
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    filterErrors: new Counter({
      name: 'webhook_filter_errors_total',
      help: 'Filter expressions that could not be evaluated on a delivery (the event was kept unchanged by them), by source',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    sourcesRegistered: new Gauge({
      name: 'webhook_sources_registered',
      help: 'Sources currently registered (all providers merged)',
      registers: [registry],
    }),
    queued: new Counter({
      name: 'webhook_queued_total',
      help: 'Deliveries answered 202 queued, by source and reason (async source or over the inline budget)',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'webhook_queue_depth',
      help: 'Inbox entries queued or processing (all replicas), refreshed every few seconds',
      registers: [registry],
    }),
    queueProcessed: new Counter({
      name: 'webhook_queue_processed_total',
      help: 'Inbox entries processed by this replica, by outcome (done, retry, dead, lease_lost)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    triageOutboxPending: new Gauge({
      name: 'triage_outbox_pending',
      help: 'Triage requests waiting for the playbook runner (all replicas), refreshed every few seconds',
      registers: [registry],
    }),
    triageDeliveries: new Counter({
      name: 'triage_deliveries_total',
      help: 'Triage request deliveries to the playbook runner, by outcome (dispatched, retry, failed, lease_lost)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    deliveryLogDropped: new Counter({
      name: 'webhook_delivery_log_dropped_total',
      help: 'Delivery log records dropped because the store was unavailable and the buffer was full',
      registers: [registry],
    }),
    storeHealthy: new Gauge({
      name: 'tw_store_healthy',
      help: 'Whether the store takes writes (1) or not (0), as /readyz reports it, by store (embedded, mongodb)',
      labelNames: ['store'] as const,
      registers: [registry],
      collect() {
        const sample = storeHealth?.();
        if (sample) this.set({ store: sample.store }, sample.healthy ? 1 : 0);
      },
    }),
    /** tw_store_healthy follows `read` from now on. */
    watchStoreHealth(read: () => StoreHealthSample): void {
      storeHealth = read;
    },
    storeErrors: new Counter({
      name: 'tw_store_errors_total',
      help: 'Non-transient store errors met (a damaged, full or unwritable file, refused credentials, ...), by store and kind',
      labelNames: ['store', 'kind'] as const,
      registers: [registry],
    }),
    sourceConflicts: new Counter({
      name: 'webhook_source_conflicts_total',
      help: 'Times a source name was claimed by a second provider and refused',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    informerSynced: new Gauge({
      name: 'tw_informer_synced',
      help: 'Whether the informer finished its first full list (1) or not yet (0), by resource',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    informerRestarts: new Counter({
      name: 'tw_informer_restarts_total',
      help: 'Times an informer started its list/watch over after an error (410 Gone included), by resource',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    informerLastSync: new Gauge({
      name: 'tw_informer_last_sync_timestamp_seconds',
      help: 'When the informer last completed a full list, by resource',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    workqueueDepth: new Gauge({
      name: 'tw_controller_workqueue_depth',
      help: 'WebhookSource keys waiting to be reconciled (leader only)',
      registers: [registry],
    }),
    workqueueRetries: new Counter({
      name: 'tw_controller_workqueue_retries_total',
      help: 'WebhookSource keys put back for a retry after a failed reconcile',
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'tw_controller_reconcile_duration_seconds',
      help: 'Time to reconcile one WebhookSource',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'tw_controller_reconcile_errors_total',
      help: 'Reconciles that failed and were retried',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'tw_controller_leader',
      help: 'Whether this replica holds the leader lease and writes WebhookSource status (1) or not (0)',
      registers: [registry],
    }),
    controllerSources: new Gauge({
      name: 'tw_controller_sources',
      help: 'WebhookSource objects in the cache, by their Ready condition',
      labelNames: ['ready'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Drops the last-received time of sources no longer registered, so a removed source never looks silent. */
export async function forgetRemovedSources(metrics: Metrics, registered: ReadonlySet<string>): Promise<void> {
  for (const { labels } of (await metrics.lastReceived.get()).values) {
    if (!registered.has(String(labels.source))) metrics.lastReceived.remove({ source: String(labels.source) });
  }
}
