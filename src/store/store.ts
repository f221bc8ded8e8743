import { DomainError } from '../core/errors.js';
import type { CursorPosition } from './cursor.js';
import type { Incident, IncidentSummary, NewIncident, Severity, IncidentStatus, TriageState } from '../incidents/model.js';
import type { ApiKeyStore } from '../apikeys/api-key.js';
import type { RegisteredSourceStore } from '../sources/providers/api/registered-source.js';

/** The result of storing an incident: created, or the original it duplicates (same source + dedupe key). */
export type InsertResult = { created: true; incident: Incident } | { created: false; incident: Incident };

export interface IncidentQuery {
  source?: string;
  severity?: Severity;
  status?: IncidentStatus;
  /** ISO time bounds on receivedAt (inclusive since, exclusive until). */
  since?: string;
  until?: string;
  limit: number;
  /**
   * Stop adding items once their JSON reaches this many bytes (the first item always comes), so a
   * page of large incidents is bounded in memory as well as in count; `next` continues after it.
   */
  maxBytes?: number;
  /** Continue after this position (decoded from the previous page's `next`). */
  after?: CursorPosition;
}

export interface IncidentPage {
  /** Summaries: a list never carries raw bodies (they can be megabytes each). */
  items: IncidentSummary[];
  next: string | null;
}

export interface IncidentStore {
  /**
   * Durably stores the incident (and its triage outbox entry when `triagePlaybook` is set) and
   * allocates its number, or returns the already stored incident with the same source + dedupe key.
   * Resolves only after the write is durable; rejects with StoreUnavailableError when it cannot be.
   */
  insertIncident(incident: NewIncident): Promise<InsertResult>;
  /** By incident id (uuid) or number (INC-yyyy-nnnn). */
  getIncident(idOrNumber: string): Promise<Incident | undefined>;
  listIncidents(query: IncidentQuery): Promise<IncidentPage>;
}

/** Where a claim's holder proves it still holds it: the entry and the attempt it claimed (a fencing token). */
export interface Claim {
  id: string;
  attempts: number;
}

export type QueueStatus = 'queued' | 'processing' | 'done' | 'dead';

/** A verified delivery whose processing is deferred (`202 queued`). */
export interface NewQueueEntry {
  /** `queue-<uuid>`, the id the sender sees. */
  id: string;
  source: string;
  body: Buffer;
  /** Only the idempotency headers the dedupe key reads, as [name, value] pairs: never field names. */
  headers: [string, string][];
  receivedAt: string;
}

export interface QueueEntry extends NewQueueEntry {
  status: QueueStatus;
  /** Claims so far; the current claim's fencing token while processing. */
  attempts: number;
  lastError: string | null;
  /** queued: not to be tried before this time; processing: when the lease expires. */
  dueAt: string;
  claimedBy: string | null;
  incidentId: string | null;
  incidentNumber: string | null;
  updatedAt: string;
}

export type QueueOutcome =
  { status: 'done'; incidentId: string; incidentNumber: string } | { status: 'queued'; error: string; dueAt: string } | { status: 'dead'; error: string };

/** The inbox of queued deliveries, claimed with leases by the workers of every replica. */
export interface InboxStore {
  /** Resolves once the entry is durable (the 202 is sent after it). */
  enqueue(entry: NewQueueEntry): Promise<void>;
  getEntry(id: string): Promise<QueueEntry | undefined>;
  /**
   * Claims the oldest due entry (queued and due, or processing with an expired lease): status
   * processing, attempts + 1, leased to `worker` until now + leaseMs. undefined when none is due.
   */
  claimEntry(worker: string, now: Date, leaseMs: number): Promise<QueueEntry | undefined>;
  /** Records the outcome of a claim; false when the claim was lost (lease expired, taken over). */
  finishEntry(claim: Claim, outcome: QueueOutcome, now: Date): Promise<boolean>;
  /** Entries not yet done or dead (queue depth). */
  countOpenEntries(): Promise<number>;
  /**
   * Retention: deletes the entries that ended (done or dead) before `before` (ISO), and what
   * claiming them left behind; returns how many entries. Open entries are never deleted.
   */
  pruneEntries(before: string): Promise<number>;
}

export type TriageOutcome =
  { state: 'dispatched'; at: string } | { state: 'pending'; error: string; nextAttemptAt: string } | { state: 'failed'; error: string };

/**
 * The auto-triage outbox: the incident's own `triage` (written with it) is the entry. A claim moves
 * `nextAttemptAt` to the end of the lease and counts the attempt, so a crashed dispatcher's claim
 * simply becomes due again.
 */
export interface TriageOutboxStore {
  claimTriage(worker: string, now: Date, leaseMs: number): Promise<Incident | undefined>;
  finishTriage(claim: Claim, outcome: TriageOutcome): Promise<boolean>;
  /** Incidents whose triage is in `state`, oldest due first. */
  listTriage(query: { state: Exclude<TriageState, 'none'>; limit: number }): Promise<Incident[]>;
  /** Requests not yet dispatched or failed (the outbox backlog). */
  countPendingTriage(): Promise<number>;
}

/** One webhook request as the delivery log keeps it. */
export interface DeliveryRecord {
  at: string;
  /** The source label: a registered name or `_unknown` (bounded, like the metrics). */
  source: string;
  status: number;
  /** The error code, null on success. */
  code: string | null;
  latencyMs: number;
  incidentId: string | null;
  queueId: string | null;
  remoteAddress: string | null;
}

/** Best-effort request log with bounded retention (see src/workers/delivery-recorder.ts). */
export interface DeliveryLogStore {
  appendDeliveries(records: readonly DeliveryRecord[]): Promise<void>;
  /** Newest first. */
  listDeliveries(query: { source?: string; limit: number }): Promise<DeliveryRecord[]>;
  /** Deletes records older than `before` (ISO); returns how many. */
  pruneDeliveries(before: string): Promise<number>;
}

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

/** The damage a database file's check found, and what to do about it (one sentence). */
export interface FileDamage {
  file: string;
  /** The first lines the check reported. */
  problems: string[];
  recovery: string;
}

/** A database file failed its start-up check: the store does not serve from it. */
export class StoreDamagedError extends Error {
  constructor(readonly damage: FileDamage) {
    super(`${damage.file} is damaged (${damage.problems.join('; ')}); ${damage.recovery}`);
    this.name = 'StoreDamagedError';
  }
}

/** Seconds a sender should wait before retrying while the store is down. */
const STORE_RETRY_AFTER_SECONDS = 5;

/** The store cannot serve now (down, restarting, not open): senders should retry shortly. */
export class StoreUnavailableError extends DomainError {
  /** What went wrong, for the log; senders only learn that the store is unavailable. */
  constructor(
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super('unavailable', 'Incident store is unavailable, retry later', { retryAfterSeconds: STORE_RETRY_AFTER_SECONDS });
    this.name = 'StoreUnavailableError';
  }
}
