import type { ApiKeyStore } from '../apikeys/api-key.js';
import type { RegisteredSourceStore } from '../sources/registered-source.js';
import type { AuditStore } from '../audit/audit.js';
import type { DeliveryLogStore, InboxStore, IncidentStore, TriageOutboxStore } from '../incidents/ports.js';
import type { JobStore } from '../jobs/job.js';

/** The whole persistence port. Two implementations: embedded (SQLite) and MongoDB, one contract suite. */
export interface Store extends IncidentStore {
  readonly kind: 'embedded' | 'mongodb';
  readonly inbox: InboxStore;
  readonly triage: TriageOutboxStore;
  readonly deliveries: DeliveryLogStore;
  readonly apiKeys: ApiKeyStore;
  /** Sources registered through the API (not the file's, nor the cluster's). */
  readonly registeredSources: RegisteredSourceStore;
  /** Who changed which API key or registered source, and when. */
  readonly audit: AuditStore;
  /** Admin jobs (backup, renormalize): their progress and outcome, seen by every replica. */
  readonly jobs: JobStore;
  /** Opens connections and creates schema/indexes (the embedded store checks its files first). */
  open(): Promise<void>;
  /** Whether writes can be acknowledged now, and if not why (drives /readyz and tw_store_healthy). */
  health(): StoreHealth;
  /**
   * The full check of what the store keeps, on demand (see docs/operations.md): slower than the
   * start-up check, and it runs even while the store is unhealthy, since that is when it is wanted.
   */
  checkIntegrity(): Promise<IntegrityReport>;
  /**
   * An online, consistent copy of everything the store keeps but the delivery log, into
   * `target.directory/target.file` (docs/operations.md, "Backup and restore"). Only the embedded
   * store has one: MongoDB is backed up with its own tools.
   */
  backup?(target: BackupTarget, onProgress: (progress: BackupProgress) => void): Promise<BackupSummary>;
  /**
   * Embedded: gives free pages of the incidents file back to the file system, one bounded step
   * of incremental vacuum (about a megabyte). MongoDB reuses the space of deleted documents itself.
   */
  reclaimSpace?(): Promise<SpaceReclaimed>;
  /** How much room the store takes, per file (embedded) or collection (MongoDB): the tw_store_*_bytes metrics. */
  sizes(): Promise<StorePartSize[]>;
  close(): Promise<void>;
}

export interface BackupTarget {
  directory: string;
  /** A plain file name in `directory`; written as `<file>.partial` and renamed once complete. */
  file: string;
}

export interface BackupProgress {
  copiedPages: number;
  totalPages: number;
}

export interface BackupSummary {
  /** The finished file's path and size. */
  path: string;
  bytes: number;
  /** Incidents in the copy, counted in it once it was complete. */
  incidents: number;
}

export interface SpaceReclaimed {
  /** Pages given back by this step. */
  pages: number;
  /** Free pages still in the file (0: nothing left to give back; a step that gives none back cannot). */
  left: number;
}

export interface StorePartSize {
  /** A file name (embedded) or collection name (MongoDB). */
  part: string;
  /** What it occupies on disk. */
  bytes: number;
  /** Of those, how many are free for reuse (embedded: the free pages; MongoDB: reusable storage), when known. */
  freeBytes: number | null;
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
