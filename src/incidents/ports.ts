import type { CursorPosition } from './cursor.js';
import type { IncidentScope } from './retention.js';
import type { Incident, IncidentDraft, IncidentSummary, NewIncident, Severity, IncidentStatus, StatusChange, TriageState } from './model.js';

/** The result of storing an incident: created, or the original it duplicates (same source + dedupe key). */
export type InsertResult = { created: true; incident: Incident } | { created: false; incident: Incident };

export interface IncidentQuery {
  source?: string;
  severity?: Severity;
  status?: IncidentStatus;
  /** Only test events' incidents (true) or none of them (false); both when absent. */
  test?: boolean;
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
   * Durably stores the incident the domain built (its triage outbox entry is its own `triage`),
   * allocating its number inside the same transaction and completing the given object with it; or
   * returns the already stored incident with the same source + dedupe key. Resolves only after the
   * write is durable; rejects with StoreUnavailableError when it cannot be.
   */
  insertIncident(incident: NewIncident): Promise<InsertResult>;
  /** By incident id (uuid) or number (INC-yyyy-nnnn). */
  getIncident(idOrNumber: string): Promise<Incident | undefined>;
  listIncidents(query: IncidentQuery): Promise<IncidentPage>;
  /**
   * Moves the incident to `to`, recording `change`, if its status is one of `from` (checked and
   * written in one step, so two people acting at once cannot both change it). Resolves, once
   * durable, to the incident as it is afterwards, changed or not; undefined when there is none.
   */
  changeIncidentStatus(
    idOrNumber: string,
    to: Exclude<IncidentStatus, 'new'>,
    from: readonly IncidentStatus[],
    change: StatusChange,
  ): Promise<Incident | undefined>;
  /**
   * Retention: deletes up to `limit` incidents of `scope` received before `before` (oldest first),
   * never one whose triage is pending, with their outbox entries; returns how many it deleted.
   */
  pruneIncidents(query: { scope: IncidentScope; before: string; limit: number }): Promise<number>;
  /**
   * Retention: looks at up to `limit` incidents of `scope` received before `before`, oldest first
   * from after `after`, and drops the raw bodies of those not pending triage. `next` is where the
   * next call continues, undefined once it looked at the last one.
   */
  pruneRawBodies(query: { scope: IncidentScope; before: string; after?: CursorPosition; limit: number }): Promise<RawBodyPrune>;
  /**
   * Re-normalization: stored incidents with their raw bodies, oldest first by (receivedAt, id)
   * from after `after`, at most `limit` of them and no more once their raw bodies reach `maxBytes`
   * (the first always comes).
   */
  scanIncidents(query: IncidentScan): Promise<Incident[]>;
  /** How many incidents a scan of `range` goes through. */
  countIncidents(range: IncidentRange): Promise<number>;
  /**
   * Rewrites each incident's normalized fields and normalizer version, and queues it for triage
   * again where asked; its id, number, received time, dedupe key, raw body and status never
   * change. Resolves how many incidents it rewrote.
   */
  renormalizeIncidents(updates: readonly NormalizedUpdate[], at: string): Promise<number>;
}

/** Which incidents a re-normalization goes through: a source's, received in a time range (since inclusive, until exclusive). */
export interface IncidentRange {
  source?: string;
  since?: string;
  until?: string;
}

export interface IncidentScan extends IncidentRange {
  after?: CursorPosition;
  limit: number;
  maxBytes: number;
}

/** An incident's fields as today's normalizer makes them. */
export interface NormalizedUpdate {
  /** Which incident: its id, its number (the embedded outbox's key) and its event's identity (the MongoDB store finds it by that). */
  incident: Pick<Incident, 'id' | 'number' | 'source' | 'dedupeKey'>;
  draft: IncidentDraft;
  normalizerVersion: number;
  /** Queue it for triage again with this playbook, or null. */
  requeuePlaybook: string | null;
}

export interface RawBodyPrune {
  dropped: number;
  next: CursorPosition | undefined;
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
  /** Only the header the dedupe key reads (the signed event id), as [name, value] pairs: never field names. */
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

/** `done` without an incident: the source's filter filtered the event out. */
export type QueueOutcome =
  | { status: 'done'; incidentId: string | null; incidentNumber: string | null }
  | { status: 'queued'; error: string; dueAt: string }
  | { status: 'dead'; error: string };

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
  /**
   * Records the outcome of a claim; false when the claim was lost (lease expired, taken over).
   * Attempt 0 is the entry as queued, before any claim: the inline attempt that outlived its
   * budget records its outcome so, and loses to a worker that claimed the entry meanwhile.
   */
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
  /** The error code; null on success, `filtered` for a delivery the source's filter filtered out. */
  code: string | null;
  latencyMs: number;
  incidentId: string | null;
  /** INC-yyyy-nnnn of the incident created or found (duplicate), so a log reader sees what people quote. */
  incidentNumber: string | null;
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
