import type { ApiKeyStore } from '../apikeys/api-key.js';
import type { RegisteredSourceStore } from '../sources/registered-source.js';
import type { DeliveryLogStore, InboxStore, IncidentStore, TriageOutboxStore } from '../incidents/ports.js';

/** The whole persistence port. Two implementations: embedded (SQLite) and MongoDB, one contract suite. */
export interface Store extends IncidentStore {
  readonly kind: 'embedded' | 'mongodb';
  readonly inbox: InboxStore;
  readonly triage: TriageOutboxStore;
  readonly deliveries: DeliveryLogStore;
  readonly apiKeys: ApiKeyStore;
  /** Sources registered through the API (not the file's, nor the cluster's). */
  readonly registeredSources: RegisteredSourceStore;
  /** Opens connections and creates schema/indexes (the embedded store checks its files first). */
  open(): Promise<void>;
  /** Whether writes can be acknowledged now, and if not why (drives /readyz and tw_store_healthy). */
  health(): StoreHealth;
  /**
   * The full check of what the store keeps, on demand (see docs/operations.md): slower than the
   * start-up check, and it runs even while the store is unhealthy, since that is when it is wanted.
   */
  checkIntegrity(): Promise<IntegrityReport>;
  close(): Promise<void>;
}

export type StoreHealth = { healthy: true } | { healthy: false; reason: string };

/** Why a non-transient store error happened: the `kind` of tw_store_errors_total. */
export type StoreFaultKind =
  'corrupt' | 'not_a_database' | 'io_error' | 'disk_full' | 'read_only' | 'cannot_open' | 'permission' | 'auth' | 'write_concern' | 'server_error';

/**
 * A store error that retrying will not fix (a damaged or full file, refused credentials): the
 * store turns unhealthy instead of failing the same way at every request and claim.
 */
export interface StoreFault {
  kind: StoreFaultKind;
  /** One line, shown by /readyz as `store_error`. */
  reason: string;
}

/**
 * Told of every non-transient error a store meets; `turnedUnhealthy` is set on the one that made
 * it unhealthy, so the service logs that one and counts them all.
 */
export type StoreFaultListener = (fault: StoreFault, turnedUnhealthy: boolean) => void;

/** What checkIntegrity found: per database file (embedded) or collection (MongoDB). */
export interface IntegrityReport {
  ok: boolean;
  parts: { name: string; ok: boolean; problems: string[] }[];
}
