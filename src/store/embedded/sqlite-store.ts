import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Incident, IncidentStatus, IncidentSummary, StatusChange } from '../../incidents/model.js';
import { formatIncidentNumber, numberingYear } from '../../incidents/numbering.js';
import { currentShape } from '../stored-shape.js';
import { takePage } from '../../incidents/cursor.js';
import { StoreDamagedError, StoreUnavailableError } from '../../core/errors.js';
import type { IncidentPage, IncidentQuery, IncidentRange, IncidentScan, NormalizedUpdate, RawBodyPrune } from '../../incidents/ports.js';
import { DRAFT_FIELDS, initialTriage } from '../../incidents/incident.js';
import type { IncidentScope } from '../../incidents/retention.js';
import type { CursorPosition } from '../../incidents/cursor.js';
import type { BackupProgress, BackupSummary, BackupTarget, IntegrityReport, SpaceReclaimed, StorePartSize } from '../store.js';
import { SCHEMA } from './schema.js';
import { numberedDocument, parseIncident, type EncodedInsert, type EncodedInsertResult } from './encoded-insert.js';
import type { ThreadHostedStore } from './store-protocol.js';
import { GroupCommit } from './group-commit.js';
import { EmbeddedInbox, INBOX_SCHEMA } from './inbox.js';
import { EmbeddedTriageOutbox, INSERT_TRIAGE_ENTRY, TRIAGE_SCHEMA, requeueTriageEntry, upgradeTriageOutbox } from './triage-outbox.js';
import { DELIVERY_LOG_SCHEMA, EmbeddedDeliveryLog, upgradeDeliveryLog } from './delivery-log.js';
import { EmbeddedApiKeys, EmbeddedAuditLog, EmbeddedRegisteredSources, OPERATOR_SCHEMA } from './operator-tables.js';
import { EmbeddedJobs, JOBS_SCHEMA } from './jobs-table.js';
import { DAMAGE_KINDS, sqliteFault } from './sqlite-errors.js';
import { convertToIncrementalVacuum, reclaimStep, vacuumIncrementally, type VacuumConversion } from './free-space.js';

/** The data directory's files: incidents, inbox, triage outbox, keys and sources; the delivery log. */
export const INCIDENTS_FILE = 'tw-webhooks.sqlite';
export const DELIVERIES_FILE = 'deliveries.sqlite';

/** How many of a check's findings are kept: the start-up line names the first few, a full check more. */
const STARTUP_PROBLEMS = 5;
const INTEGRITY_PROBLEMS = 100;
/**
 * Pages a backup step copies before the store thread turns to other calls: 1 MB, about 5 ms here
 * (a 249 MB file in 2.1 s; one step of the whole file would hold the thread for all of it).
 */
const BACKUP_PAGES_PER_STEP = 256;
const WAL_SIZE_LIMIT = 32 * 1024 * 1024;

/** What to do with a damaged file, concretely (docs/operations.md, "A damaged database file"). */
function recovery(path: string): string {
  const recover = `sqlite3 ${path} ".recover" | sqlite3 ${path}.recovered, then put the new file in its place`;
  const more = 'docs/operations.md ("A damaged database file") has the steps, and the ".dump" way for a sqlite3 without ".recover"';
  if (path.endsWith(DELIVERIES_FILE))
    return `it holds only the best-effort delivery log: move it aside (a new one is created), or recover it with ${recover}; ${more}`;
  return `with the service stopped, restore it from a backup, or recover what it still holds with ${recover}; ${more}`;
}

/**
 * SQLite in WAL mode with synchronous=FULL, so a commit is on disk before it returns. Inserts
 * arriving in the same event-loop turn share one transaction (group commit), which keeps the fsync
 * count low under load without delaying a lone request. It runs on the store thread (see
 * embedded-store.ts), where its synchronous calls block nobody's requests; EmbeddedStore is the
 * Store the service sees, so this one only offers what the thread serves.
 */
export class SqliteStore implements ThreadHostedStore {
  private db: Database.Database | undefined;
  private deliveryDb: Database.Database | undefined;
  private statements: ReturnType<typeof prepareStatements> | undefined;
  private readonly commit = new GroupCommit(() => this.db);
  readonly inbox = new EmbeddedInbox(() => this.requireDb(), this.commit);
  readonly triage = new EmbeddedTriageOutbox(() => this.requireDb());
  readonly apiKeys = new EmbeddedApiKeys(() => this.requireDb());
  readonly registeredSources = new EmbeddedRegisteredSources(() => this.requireDb());
  readonly audit = new EmbeddedAuditLog(() => this.requireDb());
  readonly jobs = new EmbeddedJobs(() => this.requireDb());
  readonly deliveries = new EmbeddedDeliveryLog(() => {
    if (!this.deliveryDb) throw new StoreUnavailableError('embedded store is not open');
    return this.deliveryDb;
  });

  /** What opening did to a file made before the store vacuumed incrementally (see free-space.ts). */
  conversion: VacuumConversion | undefined;

  constructor(private readonly dataDir: string) {}

  async open(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const path = join(this.dataDir, INCIDENTS_FILE);
    const { db, conversion } = convertToIncrementalVacuum(openChecked(path, 'FULL', true), path, () => openChecked(path, 'FULL', true));
    this.conversion = conversion;
    db.exec(SCHEMA + INBOX_SCHEMA);
    upgradeTriageOutbox(db);
    db.exec(TRIAGE_SCHEMA + OPERATOR_SCHEMA + JOBS_SCHEMA);
    // 4 MB of page cache, not better-sqlite3's 16 MB: a commit after a b-tree split scans the whole
    // cache's hash table (SQLite renumbers the split pages through the locking page's number, which
    // its truncate at commit then looks for everywhere): a tenth of an insert's CPU at 16 MB, a
    // third at 64 MB, 1 % at 4 MB. Pages not cached are read from the OS's cache.
    db.pragma('cache_size = -4000');
    // The delivery log is best-effort (see DeliveryRecorder): a file of its own that commits without
    // fsync, so its rows never ride on, or slow down, the commits that acknowledge incidents.
    const deliveryDb = openChecked(join(this.dataDir, DELIVERIES_FILE), 'NORMAL', false);
    // Appends and the odd listing: a small page cache (2 MB, not better-sqlite3's 16 MB) will do.
    deliveryDb.pragma('cache_size = -2000');
    deliveryDb.exec(DELIVERY_LOG_SCHEMA);
    upgradeDeliveryLog(deliveryDb);
    this.db = db;
    this.deliveryDb = deliveryDb;
    this.statements = prepareStatements(db);
  }

  async close(): Promise<void> {
    this.commit.flush();
    this.db?.close();
    this.deliveryDb?.close();
    this.db = undefined;
    this.deliveryDb = undefined;
  }

  /**
   * SQLite's full `integrity_check` of both files (it also verifies every index against its table).
   * It holds the store thread while it runs: writes wait (0.7 s for 100k incidents, see
   * docs/operations.md).
   */
  async checkIntegrity(): Promise<IntegrityReport> {
    const files: [string, Database.Database | undefined][] = [
      [INCIDENTS_FILE, this.db],
      [DELIVERIES_FILE, this.deliveryDb],
    ];
    const parts = files.map(([name, db]) => {
      if (!db) throw new StoreUnavailableError('embedded store is not open');
      const problems = checkProblems(db, 'integrity_check', INTEGRITY_PROBLEMS);
      return { name, ok: problems.length === 0, problems };
    });
    return { ok: parts.every((part) => part.ok), parts };
  }

  /**
   * SQLite's online backup of the incidents file, a step of pages at a time between the thread's
   * other calls. Writes made meanwhile go through this same connection, which SQLite applies to the
   * copy too, so the copy is the file as of the last step: consistent, and holding every commit
   * made before the backup began. The copy is made a self-contained file (rollback journal, no
   * `-wal` beside it), its incidents are counted in it, and only then does it get its name.
   */
  async backup(target: BackupTarget, onProgress: (progress: BackupProgress) => void): Promise<BackupSummary> {
    const db = this.requireDb();
    mkdirSync(target.directory, { recursive: true });
    const path = join(target.directory, target.file);
    const partial = `${path}.partial`;
    rmSync(partial, { force: true });
    const copied = await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress({ copiedPages: totalPages - remainingPages, totalPages });
        return BACKUP_PAGES_PER_STEP;
      },
    });
    onProgress({ copiedPages: copied.totalPages, totalPages: copied.totalPages });
    const copy = new Database(partial, { fileMustExist: true });
    let incidents: number;
    try {
      copy.pragma('journal_mode = DELETE');
      incidents = (copy.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n;
    } finally {
      copy.close();
    }
    renameSync(partial, path);
    return { path, bytes: statSync(path).size, incidents };
  }

  /** Each file's size, its write-ahead log's, and the free pages inside the files. */
  async sizes(): Promise<StorePartSize[]> {
    const files: [string, Database.Database | undefined][] = [
      [INCIDENTS_FILE, this.db],
      [DELIVERIES_FILE, this.deliveryDb],
    ];
    return files.flatMap(([name, db]) => {
      if (!db) throw new StoreUnavailableError('embedded store is not open');
      const path = join(this.dataDir, name);
      const free = (db.pragma('freelist_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
      const parts: StorePartSize[] = [{ part: name, bytes: statSync(path).size, freeBytes: free }];
      if (existsSync(`${path}-wal`)) parts.push({ part: `${name}-wal`, bytes: statSync(`${path}-wal`).size, freeBytes: null });
      return parts;
    });
  }

  /** The insert as the store thread receives it (see encoded-insert.ts). */
  insertEncoded(insert: EncodedInsert): Promise<EncodedInsertResult> {
    const statements = this.statements;
    if (!statements) return Promise.reject(new StoreUnavailableError('embedded store is not open'));
    return this.commit.submit(() => insertOne(statements, insert));
  }

  async getIncident(idOrNumber: string): Promise<Incident | undefined> {
    const row = this.requireStatements().byIdOrNumber.get(idOrNumber, idOrNumber) as { doc: string } | undefined;
    return row ? parseIncident(row.doc) : undefined;
  }

  /** In the group commit, so the answer is sent once the change is on disk. */
  changeIncidentStatus(
    idOrNumber: string,
    to: Exclude<IncidentStatus, 'new'>,
    from: readonly IncidentStatus[],
    change: StatusChange,
  ): Promise<Incident | undefined> {
    const statements = this.requireStatements();
    return this.commit.submit(() => {
      const row = statements.byIdOrNumber.get(idOrNumber, idOrNumber) as { doc: string } | undefined;
      if (!row) return undefined;
      const incident = parseIncident(row.doc);
      if (!from.includes(incident.status)) return incident;
      const changed: Incident = { ...incident, status: to, [to]: change };
      statements.setStatus.run({ id: incident.id, status: to, doc: JSON.stringify(changed) });
      return changed;
    });
  }

  async listIncidents(query: IncidentQuery): Promise<IncidentPage> {
    const conditions: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit + 1 };
    const filter = (condition: string, name: string, value: string | undefined) => {
      if (!value) return;
      conditions.push(condition);
      params[name] = value;
    };
    filter('source = @source', 'source', query.source);
    filter('severity = @severity', 'severity', query.severity);
    filter('status = @status', 'status', query.status);
    filter('received_at >= @since', 'since', query.since);
    filter('received_at < @until', 'until', query.until);
    if (query.test !== undefined) {
      conditions.push("coalesce(json_extract(doc, '$.test'), 0) = @test");
      params.test = query.test ? 1 : 0;
    }
    if (query.after) {
      const after = query.after;
      conditions.push('(received_at < @cursorTime OR (received_at = @cursorTime AND id < @cursorId))');
      params.cursorTime = after.receivedAt;
      params.cursorId = after.id;
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = this.requireDb()
      .prepare(`SELECT json_remove(doc, '$.raw') AS doc FROM incidents ${where} ORDER BY received_at DESC, id DESC LIMIT @limit`)
      .iterate(params) as IterableIterator<{ doc: string }>;
    return takePage(
      rows,
      query,
      (row) => row.doc.length,
      (row) => currentShape(JSON.parse(row.doc) as IncidentSummary),
    );
  }

  /** Oldest first through the received-time index, never a row whose triage is pending; its outbox row goes first (it references the row). */
  async pruneIncidents(query: { scope: IncidentScope; before: string; limit: number }): Promise<number> {
    const db = this.requireDb();
    const scope = scopeCondition(query.scope);
    return db.transaction(() => {
      const due = db
        .prepare(`SELECT rowid, number FROM incidents WHERE received_at < @before AND ${scope.sql} AND ${NOT_PENDING} ORDER BY received_at LIMIT @limit`)
        .all({ before: query.before, limit: query.limit, ...scope.params }) as { rowid: number; number: string }[];
      if (due.length === 0) return 0;
      db.prepare('DELETE FROM triage_outbox WHERE incident_number IN (SELECT value FROM json_each(?))').run(JSON.stringify(due.map((row) => row.number)));
      return db.prepare('DELETE FROM incidents WHERE rowid IN (SELECT value FROM json_each(?))').run(JSON.stringify(due.map((row) => row.rowid))).changes;
    })();
  }

  /** A keyset step of `limit` rows in received order; the rows with a raw body get `"raw":null` in their document. */
  async pruneRawBodies(query: { scope: IncidentScope; before: string; after?: CursorPosition; limit: number }): Promise<RawBodyPrune> {
    const db = this.requireDb();
    const scope = scopeCondition(query.scope);
    const after = afterCondition(query.after);
    const rows = db
      .prepare(
        `SELECT rowid, received_at, id FROM incidents WHERE received_at < @before AND ${scope.sql} AND ${after.sql} ORDER BY received_at, id LIMIT @limit`,
      )
      .all({ before: query.before, limit: query.limit, ...scope.params, ...after.params }) as { rowid: number; received_at: string; id: string }[];
    if (rows.length === 0) return { dropped: 0, next: undefined };
    const { changes } = db
      .prepare(
        `UPDATE incidents SET doc = json_set(doc, '$.raw', NULL)
         WHERE rowid IN (SELECT value FROM json_each(?)) AND json_type(doc, '$.raw') = 'text' AND ${NOT_PENDING}`,
      )
      .run(JSON.stringify(rows.map((row) => row.rowid)));
    const last = rows[rows.length - 1]!;
    return { dropped: changes, next: rows.length < query.limit ? undefined : { receivedAt: last.received_at, id: last.id } };
  }

  /** Oldest first by the received-time index, rows read until their raw bodies reach the page's bytes. */
  async scanIncidents(query: IncidentScan): Promise<Incident[]> {
    const range = rangeCondition(query);
    const after = afterCondition(query.after);
    const rows = this.requireDb()
      .prepare(`SELECT doc FROM incidents WHERE ${range.sql} AND ${after.sql} ORDER BY received_at, id LIMIT @limit`)
      .iterate({ ...range.params, limit: query.limit, ...after.params }) as IterableIterator<{
      doc: string;
    }>;
    const incidents: Incident[] = [];
    let bytes = 0;
    for (const row of rows) {
      const incident = parseIncident(row.doc);
      incidents.push(incident);
      bytes += incident.raw?.length ?? 0;
      if (bytes >= query.maxBytes) break;
    }
    return incidents;
  }

  async countIncidents(range: IncidentRange): Promise<number> {
    const condition = rangeCondition(range);
    return (this.requireDb().prepare(`SELECT count(*) AS n FROM incidents WHERE ${condition.sql}`).get(condition.params) as { n: number }).n;
  }

  /** One transaction: each document's draft fields set in place (the severity column with them), and the triage requeued where asked. */
  async renormalizeIncidents(updates: readonly NormalizedUpdate[], at: string): Promise<number> {
    const db = this.requireDb();
    const paths = DRAFT_FIELDS.map((field) => (field === 'observables' || field === 'mitre' ? `'$.${field}', json(@${field})` : `'$.${field}', @${field}`));
    const rewrite = db.prepare(
      `UPDATE incidents SET severity = @severity, doc = json_set(doc, ${paths.join(', ')}, '$.normalizerVersion', @normalizerVersion) WHERE id = @id`,
    );
    return db.transaction(() => {
      let rewritten = 0;
      for (const { incident, draft, normalizerVersion, requeuePlaybook } of updates) {
        const values = Object.fromEntries(
          DRAFT_FIELDS.map((field) => [field, typeof draft[field] === 'object' && draft[field] !== null ? JSON.stringify(draft[field]) : draft[field]]),
        );
        rewritten += rewrite.run({ ...values, normalizerVersion, id: incident.id }).changes;
        if (requeuePlaybook !== null) requeueTriageEntry(db, incident.number, initialTriage(requeuePlaybook, at));
      }
      return rewritten;
    })();
  }

  /** A step of giving free pages back to the file system (see free-space.ts). */
  async reclaimSpace(): Promise<SpaceReclaimed> {
    return reclaimStep(this.requireDb());
  }

  private requireDb(): Database.Database {
    if (!this.db) throw new StoreUnavailableError('embedded store is not open');
    return this.db;
  }

  private requireStatements(): ReturnType<typeof prepareStatements> {
    if (!this.statements || !this.db) throw new StoreUnavailableError('embedded store is not open');
    return this.statements;
  }
}

/**
 * Opens a database file after SQLite's `quick_check` of it (every page and b-tree, not the
 * index-to-table match a full check adds): a damaged file is never written to or served from.
 * The file is read front to back first, so the check finds its pages in the OS cache instead of
 * reading them one at a time in b-tree order: for 100k incidents (236 MB) from a cold cache that
 * is 0.6 s instead of 5.1 s (docs/operations.md).
 */
function openChecked(path: string, synchronous: 'FULL' | 'NORMAL', incrementalVacuum: boolean): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    readThrough(path);
    const problems = checkProblems(db, 'quick_check', STARTUP_PROBLEMS);
    if (problems.length > 0) throw new StoreDamagedError({ file: path, problems, recovery: recovery(path) });
    if (incrementalVacuum) vacuumIncrementally(db);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    // A log that grew (a prune, a burst) is cut back to this after each checkpoint instead of keeping its largest size.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    return db;
  } catch (error) {
    db.close();
    // Damage SQLite meets before the check can report it (a garbled header) is damage all the same.
    const fault = sqliteFault(error, basename(path));
    if (fault && DAMAGE_KINDS.has(fault.kind)) throw new StoreDamagedError({ file: path, problems: [fault.reason], recovery: recovery(path) });
    throw error;
  }
}

function readThrough(path: string): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let read: number;
    do read = readSync(fd, buffer, 0, buffer.length, null);
    while (read > 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * What `quick_check` or `integrity_check` reports, as lines (SQLite joins some with newlines and
 * heads them with the schema's name), or the damage the check itself ran into; [] when the file is
 * intact. Any other error (a lock, a full disk) is not a finding: it is thrown.
 */
function checkProblems(db: Database.Database, check: 'quick_check' | 'integrity_check', limit: number): string[] {
  let rows: Record<string, string>[];
  try {
    rows = db.pragma(`${check}(${limit})`) as Record<string, string>[];
  } catch (error) {
    const fault = sqliteFault(error, basename(db.name));
    if (fault && DAMAGE_KINDS.has(fault.kind)) return [fault.reason];
    throw error;
  }
  const lines = rows.flatMap((row) => String(row[check]).split('\n')).filter((line) => !line.startsWith('*** in database'));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines.slice(0, limit);
}

/** Rows whose triage is pending are kept by retention: the runner is still to get them, raw body included. */
const NOT_PENDING = `number NOT IN (SELECT incident_number FROM triage_outbox WHERE state = 'pending')`;

/** Oldest-first keyset: the rows after `after` in (received_at, id) order; every row when there is none. */
function afterCondition(after: CursorPosition | undefined): { sql: string; params: Record<string, string> } {
  if (!after) return { sql: '1 = 1', params: {} };
  return { sql: '(received_at > @afterTime OR (received_at = @afterTime AND id > @afterId))', params: { afterTime: after.receivedAt, afterId: after.id } };
}

function rangeCondition(range: IncidentRange): { sql: string; params: Record<string, string> } {
  const conditions = ['1 = 1'];
  const params: Record<string, string> = {};
  const bound = (condition: string, name: string, value: string | undefined) => {
    if (value === undefined) return;
    conditions.push(condition);
    params[name] = value;
  };
  bound('source = @rangeSource', 'rangeSource', range.source);
  bound('received_at >= @rangeSince', 'rangeSince', range.since);
  bound('received_at < @rangeUntil', 'rangeUntil', range.until);
  return { sql: conditions.join(' AND '), params };
}

function scopeCondition(scope: IncidentScope): { sql: string; params: Record<string, string> } {
  if ('source' in scope) return { sql: 'source = @scopeSource', params: { scopeSource: scope.source } };
  return { sql: 'source NOT IN (SELECT value FROM json_each(@exceptSources))', params: { exceptSources: JSON.stringify(scope.exceptSources) } };
}

function prepareStatements(db: Database.Database) {
  return {
    byDedupeKey: db.prepare('SELECT doc FROM incidents WHERE source = ? AND dedupe_key = ?'),
    byIdOrNumber: db.prepare('SELECT doc FROM incidents WHERE id = ? OR number = ?'),
    setStatus: db.prepare('UPDATE incidents SET status = @status, doc = @doc WHERE id = @id'),
    nextNumber: db.prepare('INSERT INTO counters (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last'),
    insert: db.prepare(
      `INSERT INTO incidents (id, number, source, dedupe_key, received_at, severity, status, doc)
       VALUES (@id, @number, @source, @dedupeKey, @receivedAt, @severity, @status, @doc)`,
    ),
    // Prepared once: preparing it per insert was a tenth of the store thread's time.
    insertTriage: db.prepare(INSERT_TRIAGE_ENTRY),
  };
}

/** Runs inside the batch transaction: an existing (source, dedupe key) wins, else a new number. */
function insertOne(statements: ReturnType<typeof prepareStatements>, insert: EncodedInsert): EncodedInsertResult {
  const existing = statements.byDedupeKey.get(insert.source, insert.dedupeKey) as { doc: string } | undefined;
  if (existing) return { existing: existing.doc };
  const year = numberingYear(insert.receivedAt);
  const { last } = statements.nextNumber.get(year) as { last: number };
  const number = formatIncidentNumber(year, last);
  statements.insert.run({
    id: insert.id,
    number,
    source: insert.source,
    dedupeKey: insert.dedupeKey,
    receivedAt: insert.receivedAt,
    severity: insert.severity,
    status: 'new',
    doc: numberedDocument(insert.json, number),
  });
  if (insert.triageDueAt !== null) statements.insertTriage.run(number, insert.triageDueAt);
  return { number };
}
