import { MongoServerError, type Collection, type Db, type Filter, type MongoClient } from 'mongodb';
import type { Logger } from '../../log/logger.js';
import type { Incident, IncidentStatus, NewIncident, StatusChange } from '../../incidents/model.js';
import { formatIncidentNumber, numberingYear } from '../../incidents/numbering.js';
import { takePage } from '../../incidents/cursor.js';
import { StoreUnavailableError } from '../../core/errors.js';
import {
  type IncidentPage,
  type IncidentQuery,
  type IncidentRange,
  type IncidentScan,
  type InsertResult,
  type NormalizedUpdate,
  type RawBodyPrune,
} from '../../incidents/ports.js';
import { draftFields, initialTriage } from '../../incidents/incident.js';
import type { IncidentScope } from '../../incidents/retention.js';
import type { CursorPosition } from '../../incidents/cursor.js';
import type { IntegrityReport, Store, StoreFault, StoreFaultListener, StoreHealth, StorePartSize } from '../store.js';
import { createClient, databaseName, WritableServerWatch, type MongoConnectionSettings } from './connection.js';
import { isDuplicateKey, isUnavailable, unavailableAsStoreError } from './errors.js';
import { eventKey, fromDocument, summaryFromDocument, toDocument, type IncidentDocument } from './incident-document.js';
import { createIndexes } from './indexes.js';
import { MongoInbox, type InboxDocument } from './inbox.js';
import { MongoTriageOutbox } from './triage-outbox.js';
import { MongoDeliveryLog, type DeliveryDocument } from './delivery-log.js';
import type { ClaimTicket } from './claims.js';
import {
  MongoApiKeys,
  MongoAuditLog,
  MongoRegisteredSources,
  type ApiKeyDocument,
  type AuditDocument,
  type RegisteredSourceDocument,
} from './operator-collections.js';
import { NumberAllocator } from './number-allocator.js';
import { MongoJobs, type JobDocument, type JobSlotDocument } from './jobs.js';

export interface MongoStoreOptions extends MongoConnectionSettings {
  deliveryRetentionSeconds: number;
  logger?: Logger;
  /** Told of each fault met (see errors.ts). */
  onFault?: StoreFaultListener;
}

interface CounterDocument {
  _id: number;
  last: number;
}

const PREPARE_RETRY_MS = 2_000;
/** Numbers only collide where $inc is not atomic (FerretDB 1.x, across replicas); each retry takes a fresh one. */
const MAX_NUMBER_COLLISIONS = 20;
/** How long after its last fault the store stays unhealthy (see health()). */
const FAULT_HOLD_MS = 30_000;

/**
 * The production store. Incidents are numbered from a per-year counter document (`$inc`, one
 * increment in flight per replica, see NumberAllocator); the unique `number` index makes any
 * overlap between replicas a retry with a fresh number, so no two incidents ever share one.
 * Exactly-once rests on the event's identity being the document `_id` (see incident-document.ts).
 * No multi-document transaction is needed (FerretDB has none): a duplicate detected after
 * allocating burns that number, which is allowed (never reused).
 */
export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly inbox: MongoInbox;
  readonly triage: MongoTriageOutbox;
  readonly deliveries: MongoDeliveryLog;
  readonly apiKeys: MongoApiKeys;
  readonly registeredSources: MongoRegisteredSources;
  readonly audit: MongoAuditLog;
  readonly jobs: MongoJobs;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly incidents: Collection<IncidentDocument>;
  private readonly counters: Collection<CounterDocument>;
  private readonly server: WritableServerWatch;
  /** Indexes exist: until then no write is safe (the unique indexes carry exactly-once). */
  private prepared = false;
  private readonly numbers = new NumberAllocator((year, by) => this.incrementCounter(year, by));
  private prepareTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastFault: { fault: StoreFault; atMs: number } | undefined;

  constructor(private readonly options: MongoStoreOptions) {
    this.client = createClient(options);
    this.server = new WritableServerWatch(this.client);
    this.db = this.client.db(databaseName(options.uri));
    this.incidents = this.db.collection<IncidentDocument>('incidents');
    this.counters = this.db.collection<CounterDocument>('counters');
    const run = <T>(operation: () => Promise<T>) => this.run(operation);
    const tickets = this.db.collection<ClaimTicket>('claims');
    this.inbox = new MongoInbox(this.db.collection<InboxDocument>('inbox'), tickets, run);
    this.triage = new MongoTriageOutbox(this.incidents, tickets, run);
    this.deliveries = new MongoDeliveryLog(this.db.collection<DeliveryDocument>('deliveries'), run);
    this.apiKeys = new MongoApiKeys(this.db.collection<ApiKeyDocument>('api_keys'), run);
    this.registeredSources = new MongoRegisteredSources(this.db.collection<RegisteredSourceDocument>('registered_sources'), run);
    this.audit = new MongoAuditLog(this.db.collection<AuditDocument>('audit_log'), run);
    this.jobs = new MongoJobs(this.db.collection<JobDocument>('jobs'), this.db.collection<JobSlotDocument>('job_slots'), tickets, run);
  }

  /**
   * Connects and creates the indexes. If the database is down at start-up the store stays
   * unhealthy and keeps trying in the background, so the replica recovers without a restart;
   * any other failure (bad credentials, bad URI) rejects.
   */
  async open(): Promise<void> {
    try {
      await this.prepare();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      this.options.logger?.error({ err: error }, 'MongoDB unavailable at start-up; retrying in the background');
      this.schedulePrepare();
    }
  }

  /**
   * Unhealthy while the indexes are missing, while no server takes writes, and for 30 s after the
   * last fault. Operations still go to the server meanwhile: it owns the data, it is the judge of
   * what it stores, and an operator's fix (a role granted back, disk freed) is seen by the next one
   * without a restart. The hold keeps a failure that only some operations meet from making
   * readiness flap, and the log says it once per stretch of faults, not once per operation.
   */
  health(): StoreHealth {
    if (!this.prepared) return { healthy: false, reason: 'MongoDB store is not ready yet (indexes not created)' };
    if (!this.server.up) return { healthy: false, reason: 'MongoDB has no writable server' };
    const fault = this.recentFault();
    return fault ? { healthy: false, reason: fault.reason } : { healthy: true };
  }

  /**
   * The server owns its storage's integrity (checksums, journal, replica set); this asks it with
   * `validate` on each of our collections, in the background so reads and writes go on (MongoDB
   * 4.4+ on WiredTiger), and passes its answer on. It needs the dbAdmin role, which readWrite lacks.
   */
  async checkIntegrity(): Promise<IntegrityReport> {
    const collections = await this.run(() => this.db.listCollections({}, { nameOnly: true }).toArray());
    const parts: IntegrityReport['parts'] = [];
    for (const { name } of collections) {
      const part = await this.run(() => this.validate(name));
      if (part) parts.push(part);
    }
    return { ok: parts.every((part) => part.ok), parts };
  }

  /** One collection's answer; errors that are the check's own, not the store's, are not faults. */
  private async validate(name: string): Promise<IntegrityReport['parts'][number] | undefined> {
    let result: { valid?: boolean; errors?: string[] };
    try {
      result = await this.db.command({ validate: name, background: true });
    } catch (error) {
      if (!(error instanceof MongoServerError)) throw error;
      // Dropped since it was listed: nothing to check.
      if (error.code === 26) return undefined;
      // The server could not read the collection to check it (FerretDB: its storage failing, e.g. a damaged page).
      if (error.code === 1) return { name, ok: false, problems: [error.message] };
      if (error.code === 13) throw new Error(`the MongoDB user may not run validate (it needs the dbAdmin role): ${error.message}`, { cause: error });
      throw error;
    }
    const ok = result.valid === true;
    const problems = result.errors ?? [];
    return { name, ok, problems: ok || problems.length > 0 ? problems : ['not valid'] };
  }

  /** `collStats` of each collection: what it occupies on disk (data and indexes) and, where the server says, how much of it is reusable. */
  async sizes(): Promise<StorePartSize[]> {
    const collections = await this.run(() => this.db.listCollections({}, { nameOnly: true }).toArray());
    const parts: StorePartSize[] = [];
    for (const { name } of collections) {
      const stats = (await this.run(() => this.db.command({ collStats: name }))) as { storageSize?: number; totalIndexSize?: number; freeStorageSize?: number };
      parts.push({ part: name, bytes: (stats.storageSize ?? 0) + (stats.totalIndexSize ?? 0), freeBytes: stats.freeStorageSize ?? null });
    }
    return parts;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.prepareTimer);
    await this.client.close();
  }

  insertIncident(incident: NewIncident): Promise<InsertResult> {
    return this.run(async () => {
      // The common duplicate (a sender's retry) is answered without spending a number.
      const existing = await this.findEvent(incident);
      if (existing) return { created: false, incident: existing };
      for (let collisions = 0; ; collisions++) {
        const year = numberingYear(incident.receivedAt);
        const number = formatIncidentNumber(year, await this.numbers.next(year));
        try {
          await this.incidents.insertOne(toDocument(incident, number));
          return { created: true, incident: Object.assign(incident, { number }) };
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          // Either the event is stored (another replica won, or a driver retry of our own insert),
          // or only the number was taken: then try again with a fresh one.
          const original = await this.findEvent(incident);
          if (original) return { created: original.id === incident.id, incident: original };
          if (collisions >= MAX_NUMBER_COLLISIONS) throw error;
        }
      }
    });
  }

  getIncident(idOrNumber: string): Promise<Incident | undefined> {
    return this.run(async () => {
      const document = await this.incidents.findOne({ $or: [{ id: idOrNumber }, { number: idOrNumber }] });
      return document ? fromDocument(document) : undefined;
    });
  }

  changeIncidentStatus(
    idOrNumber: string,
    to: Exclude<IncidentStatus, 'new'>,
    from: readonly IncidentStatus[],
    change: StatusChange,
  ): Promise<Incident | undefined> {
    return this.run(async () => {
      const which = { $or: [{ id: idOrNumber }, { number: idOrNumber }] };
      // One conditional update: of two people acting at once, only one moves the status.
      const changed = await this.incidents.findOneAndUpdate(
        { $and: [which, { status: { $in: [...from] } }] },
        { $set: { status: to, [to]: change } },
        { returnDocument: 'after' },
      );
      if (changed) return fromDocument(changed);
      const current = await this.incidents.findOne(which);
      return current ? fromDocument(current) : undefined;
    });
  }

  listIncidents(query: IncidentQuery): Promise<IncidentPage> {
    return this.run(async () => {
      const filter: Filter<IncidentDocument> = {};
      if (query.source) filter.source = query.source;
      if (query.severity) filter.severity = query.severity;
      if (query.status) filter.status = query.status;
      if (query.test !== undefined) filter.test = query.test ? true : { $ne: true };
      if (query.since || query.until) {
        filter.receivedAt = { ...(query.since && { $gte: query.since }), ...(query.until && { $lt: query.until }) };
      }
      const conditions: Filter<IncidentDocument>[] = [filter];
      if (query.after) {
        const { receivedAt, id } = query.after;
        conditions.push({ $or: [{ receivedAt: { $lt: receivedAt } }, { receivedAt, id: { $lt: id } }] });
      }
      const cursor = this.incidents
        .find(conditions.length > 1 ? { $and: conditions } : filter)
        .project<Omit<IncidentDocument, 'raw'>>({ raw: 0 })
        .sort({ receivedAt: -1, id: -1 })
        .limit(query.limit + 1);
      // Read only what the page can take (one row past it tells whether there is a next page).
      const rows: { document: Omit<IncidentDocument, 'raw'>; bytes: number }[] = [];
      try {
        let bytes = 0;
        for await (const document of cursor) {
          const size = JSON.stringify(document).length;
          rows.push({ document, bytes: size });
          if (rows.length > query.limit || (query.maxBytes !== undefined && bytes >= query.maxBytes)) break;
          bytes += size;
        }
      } finally {
        await cursor.close();
      }
      return takePage(
        rows,
        query,
        (row) => row.bytes,
        (row) => summaryFromDocument(row.document),
      );
    });
  }

  /** The oldest incidents of the scope by the receivedAt index, read as ids only, then deleted unless their triage turned pending meanwhile. */
  pruneIncidents(query: { scope: IncidentScope; before: string; limit: number }): Promise<number> {
    return this.run(async () => {
      const notPending = { 'triage.state': { $ne: 'pending' as const } };
      const due = await this.incidents
        .find({ receivedAt: { $lt: query.before }, ...scopeFilter(query.scope), ...notPending }, { projection: { _id: 1 } })
        .sort({ receivedAt: 1 })
        .limit(query.limit)
        .toArray();
      if (due.length === 0) return 0;
      const { deletedCount } = await this.incidents.deleteMany({ _id: { $in: due.map((document) => document._id) }, ...notPending });
      return deletedCount;
    });
  }

  /** A keyset step of `limit` documents in received order (ids and times only); those with a raw body not pending triage get `raw: null`. */
  pruneRawBodies(query: { scope: IncidentScope; before: string; after?: CursorPosition; limit: number }): Promise<RawBodyPrune> {
    return this.run(async () => {
      const conditions: Filter<IncidentDocument>[] = [{ receivedAt: { $lt: query.before }, ...scopeFilter(query.scope) }, afterFilter(query.after)];
      const rows = await this.incidents
        .find({ $and: conditions }, { projection: { _id: 1, receivedAt: 1, id: 1 } })
        .sort({ receivedAt: 1, id: 1 })
        .limit(query.limit)
        .toArray();
      if (rows.length === 0) return { dropped: 0, next: undefined };
      const { modifiedCount } = await this.incidents.updateMany(
        { _id: { $in: rows.map((row) => row._id) }, raw: { $type: 'string' }, 'triage.state': { $ne: 'pending' } },
        { $set: { raw: null } },
      );
      const last = rows[rows.length - 1]!;
      return { dropped: modifiedCount, next: rows.length < query.limit ? undefined : { receivedAt: last.receivedAt, id: last.id } };
    });
  }

  /** Oldest first by the receivedAt index, documents read until their raw bodies reach the page's bytes. */
  scanIncidents(query: IncidentScan): Promise<Incident[]> {
    return this.run(async () => {
      const conditions: Filter<IncidentDocument>[] = [rangeFilter(query), afterFilter(query.after)];
      const cursor = this.incidents.find({ $and: conditions }).sort({ receivedAt: 1, id: 1 }).limit(query.limit);
      const incidents: Incident[] = [];
      try {
        let bytes = 0;
        for await (const document of cursor) {
          incidents.push(fromDocument(document));
          bytes += document.raw?.length ?? 0;
          if (bytes >= query.maxBytes) break;
        }
      } finally {
        await cursor.close();
      }
      return incidents;
    });
  }

  countIncidents(range: IncidentRange): Promise<number> {
    return this.run(() => this.incidents.countDocuments(rangeFilter(range)));
  }

  /** One unordered bulk write, each update found by the event's `_id` (the lookup every server indexes). */
  renormalizeIncidents(updates: readonly NormalizedUpdate[], at: string): Promise<number> {
    if (updates.length === 0) return Promise.resolve(0);
    return this.run(async () => {
      const result = await this.incidents.bulkWrite(
        updates.map(({ incident, draft, normalizerVersion, requeuePlaybook }) => ({
          updateOne: {
            filter: { _id: eventKey(incident.source, incident.dedupeKey), id: incident.id },
            update: {
              $set: {
                ...draftFields(draft),
                normalizerVersion,
                ...(requeuePlaybook !== null && { triage: initialTriage(requeuePlaybook, at), triageClaimedBy: null }),
              },
            },
          },
        })),
        { ordered: false },
      );
      return result.matchedCount;
    });
  }

  private async findEvent(incident: NewIncident): Promise<Incident | undefined> {
    const document = await this.incidents.findOne({ _id: eventKey(incident.source, incident.dedupeKey) });
    return document ? fromDocument(document) : undefined;
  }

  /**
   * Adds `by` to the year's counter and returns its new value; the upsert creates the counter on
   * the year's first incident. On MongoDB the $inc is atomic. FerretDB 1.x runs it as
   * read-then-write, so two replicas can get overlapping ranges: the unique `number` index turns
   * that into a retry with a fresh number (insertIncident), never a shared number.
   */
  private async incrementCounter(year: number, by: number): Promise<number> {
    const increment = () => this.counters.findOneAndUpdate({ _id: year }, { $inc: { last: by } }, { upsert: true, returnDocument: 'after' });
    let counter: CounterDocument | null;
    try {
      counter = await increment();
    } catch (error) {
      // Two first-of-the-year upserts can race on _id; the loser simply increments the winner's.
      if (!isDuplicateKey(error)) throw error;
      counter = await increment();
    }
    if (!counter) throw new Error(`counter ${year} was not returned by findOneAndUpdate`);
    return counter.last;
  }

  /**
   * Every operation goes through here: refused until the indexes exist, refused at once while the
   * driver's monitoring sees no writable server (senders get their 503 without waiting out server
   * selection), and "database unavailable" failures become StoreUnavailableError.
   */
  private run<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.prepared) return Promise.reject(new StoreUnavailableError('MongoDB store is not ready yet'));
    if (!this.server.up) return Promise.reject(new StoreUnavailableError('MongoDB has no writable server'));
    return unavailableAsStoreError(operation, (fault) => this.faulted(fault)).then((value) => {
      if (this.lastFault && !this.recentFault()) {
        this.lastFault = undefined;
        this.options.logger?.info('MongoDB store healthy again: no fault for 30 s and an operation succeeded');
      }
      return value;
    });
  }

  private faulted(fault: StoreFault): void {
    const turnedUnhealthy = this.recentFault() === undefined;
    this.lastFault = { fault, atMs: Date.now() };
    this.options.onFault?.(fault, turnedUnhealthy);
  }

  private recentFault(): StoreFault | undefined {
    return this.lastFault && Date.now() - this.lastFault.atMs < FAULT_HOLD_MS ? this.lastFault.fault : undefined;
  }

  private async prepare(): Promise<void> {
    await this.client.connect();
    await createIndexes(this.db, this.options.deliveryRetentionSeconds, this.options.logger);
    this.prepared = true;
  }

  private schedulePrepare(): void {
    if (this.closed) return;
    this.prepareTimer = setTimeout(() => {
      this.prepare().then(
        () => this.options.logger?.info('MongoDB reachable again; store ready'),
        (error: unknown) => {
          this.options.logger?.warn({ err: error }, 'MongoDB still unavailable');
          this.schedulePrepare();
        },
      );
    }, PREPARE_RETRY_MS);
    this.prepareTimer.unref();
  }
}

/** Oldest-first keyset: the documents after `after` in (receivedAt, id) order; every one when there is none. */
function afterFilter(after: CursorPosition | undefined): Filter<IncidentDocument> {
  if (!after) return {};
  return { $or: [{ receivedAt: { $gt: after.receivedAt } }, { receivedAt: after.receivedAt, id: { $gt: after.id } }] };
}

function rangeFilter(range: IncidentRange): Filter<IncidentDocument> {
  const filter: Filter<IncidentDocument> = {};
  if (range.source !== undefined) filter.source = range.source;
  if (range.since !== undefined || range.until !== undefined) {
    filter.receivedAt = { ...(range.since !== undefined && { $gte: range.since }), ...(range.until !== undefined && { $lt: range.until }) };
  }
  return filter;
}

function scopeFilter(scope: IncidentScope): Filter<IncidentDocument> {
  return 'source' in scope ? { source: scope.source } : { source: { $nin: [...scope.exceptSources] } };
}
