import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Label value for requests to names that are not registered: keeps label cardinality bounded. */
export const UNKNOWN_SOURCE_LABEL = '_unknown';

/** A store's health as tw_store_healthy reports it. */
export interface StoreHealthSample {
  store: string;
  healthy: boolean;
}

/** One part of a store as tw_store_size_bytes and tw_store_free_bytes report it. */
export interface StoreSizeSample {
  part: string;
  bytes: number;
  freeBytes: number | null;
}

/** How long a read of the store's sizes serves scrapes (reading them costs a call per part on MongoDB). */
const STORE_SIZES_TTL_MS = 30_000;

/** The one metrics registry of the process, created by start() and passed to whoever records. */
export function createMetrics() {
  const registry = new Registry();
  // Read at each scrape, so the gauge is what /readyz would say; set once the store exists.
  let storeHealth: (() => StoreHealthSample) | undefined;
  let storeSizes: { store: string; read: () => Promise<StoreSizeSample[]> } | undefined;
  let sizesRead: { atMs: number; samples: Promise<StoreSizeSample[]> } | undefined;
  const currentSizes = (): Promise<StoreSizeSample[]> => {
    if (!storeSizes) return Promise.resolve([]);
    if (!sizesRead || Date.now() - sizesRead.atMs > STORE_SIZES_TTL_MS) {
      // A failed read (the store is down) is not kept: the next scrape tries again.
      const samples = storeSizes.read().catch(() => ((sizesRead = undefined), []));
      sizesRead = { atMs: Date.now(), samples };
    }
    return sizesRead.samples;
  };
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
    /** tw_store_size_bytes and tw_store_free_bytes read `read` from now on (at most every 30 s). */
    watchStoreSizes(store: string, read: () => Promise<StoreSizeSample[]>): void {
      storeSizes = { store, read };
    },
    storeSize: new Gauge({
      name: 'tw_store_size_bytes',
      help: 'Bytes the store occupies on disk, by store and part (embedded: each file and its write-ahead log; MongoDB: each collection with its indexes)',
      labelNames: ['store', 'part'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const sample of await currentSizes()) this.set({ store: storeSizes!.store, part: sample.part }, sample.bytes);
      },
    }),
    storeFree: new Gauge({
      name: 'tw_store_free_bytes',
      help: 'Of tw_store_size_bytes, the bytes free for reuse, by store and part (embedded: free pages not yet returned to the file system)',
      labelNames: ['store', 'part'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const sample of await currentSizes()) if (sample.freeBytes !== null) this.set({ store: storeSizes!.store, part: sample.part }, sample.freeBytes);
      },
    }),
    pruned: new Counter({
      name: 'tw_store_pruned_total',
      help: 'What retention removed, by store and what (incidents, raw_bodies)',
      labelNames: ['store', 'what'] as const,
      registers: [registry],
    }),
    backupLastSuccess: new Gauge({
      name: 'tw_store_backup_last_success_timestamp_seconds',
      help: 'When the newest backup of the embedded store in TW_BACKUP_DIR was completed',
      registers: [registry],
    }),
    jobsFinished: new Counter({
      name: 'tw_jobs_finished_total',
      help: 'Admin jobs (backup, renormalize) this replica finished, by kind and state (done, failed)',
      labelNames: ['kind', 'state'] as const,
      registers: [registry],
    }),
    renormalized: new Counter({
      name: 'tw_renormalized_incidents_total',
      help: 'Incidents re-normalization looked at on this replica, by outcome (changed, unchanged, skipped); a dry run counts what would change',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    jobProgress: new Gauge({
      name: 'tw_job_progress_ratio',
      help: 'How far the admin job this replica runs has got (0 to 1), by kind; absent when none runs',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'tw_store_errors_total',
      help: 'Non-transient store errors met (a damaged, full or unwritable file, refused credentials, ...), by store and kind',
      labelNames: ['store', 'kind'] as const,
      registers: [registry],
    }),
    loadShed: new Counter({
      name: 'tw_load_shed_total',
      help: 'Requests, connections and streams refused or dropped by a cap or a limit before costing more, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    bodyBytesInFlight: new Gauge({
      name: 'tw_body_bytes_in_flight',
      help: 'Webhook body bytes reserved by requests being read or processed (TW_MAX_BODY_BYTES_IN_FLIGHT caps it)',
      registers: [registry],
    }),
    followStreams: new Gauge({
      name: 'tw_follow_streams',
      help: 'Open GET /api/logs?follow=true streams',
      registers: [registry],
    }),
    configRejected: new Gauge({
      name: 'webhook_config_reload_rejected',
      help: 'Whether the edited webhook_config.yaml is rejected (1) and the last good configuration serves instead, or served (0)',
      registers: [registry],
    }),
    configRejections: new Counter({
      name: 'webhook_config_reload_rejections_total',
      help: 'Reloads of webhook_config.yaml that were rejected (invalid YAML or schema, an unset ${VAR}, the file gone)',
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
