import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Incident, IncidentSummary } from '../../incidents/model.js';
import { formatIncidentNumber, numberingYear } from '../../incidents/numbering.js';
import { currentShape } from '../stored-shape.js';
import { takePage } from '../../incidents/cursor.js';
import { StoreDamagedError, StoreUnavailableError } from '../../core/errors.js';
import type { IncidentPage, IncidentQuery } from '../../incidents/ports.js';
import type { IntegrityReport } from '../store.js';
import { SCHEMA } from './schema.js';
import { numberedDocument, parseIncident, type EncodedInsert, type EncodedInsertResult } from './encoded-insert.js';
import type { ThreadHostedStore } from './store-protocol.js';
import { GroupCommit } from './group-commit.js';
import { EmbeddedInbox, INBOX_SCHEMA } from './inbox.js';
import { EmbeddedTriageOutbox, TRIAGE_SCHEMA, insertTriageEntry } from './triage-outbox.js';
import { DELIVERY_LOG_SCHEMA, EmbeddedDeliveryLog } from './delivery-log.js';
import { EmbeddedApiKeys, EmbeddedRegisteredSources, OPERATOR_SCHEMA } from './operator-tables.js';
import { DAMAGE_KINDS, sqliteFault } from './sqlite-errors.js';

/** The data directory's files: incidents, inbox, triage outbox, keys and sources; the delivery log. */
export const INCIDENTS_FILE = 'tw-webhooks.sqlite';
export const DELIVERIES_FILE = 'deliveries.sqlite';

/** How many of a check's findings are kept: the start-up line names the first few, a full check more. */
const STARTUP_PROBLEMS = 5;
const INTEGRITY_PROBLEMS = 100;

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
  readonly deliveries = new EmbeddedDeliveryLog(() => {
    if (!this.deliveryDb) throw new StoreUnavailableError('embedded store is not open');
    return this.deliveryDb;
  });

  constructor(private readonly dataDir: string) {}

  async open(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const db = openChecked(join(this.dataDir, INCIDENTS_FILE), 'FULL');
    db.exec(SCHEMA + INBOX_SCHEMA + TRIAGE_SCHEMA + OPERATOR_SCHEMA);
    // The delivery log is best-effort (see DeliveryRecorder): a file of its own that commits without
    // fsync, so its rows never ride on, or slow down, the commits that acknowledge incidents.
    const deliveryDb = openChecked(join(this.dataDir, DELIVERIES_FILE), 'NORMAL');
    // Appends and the odd listing: a small page cache (2 MB, not better-sqlite3's 16 MB) will do.
    deliveryDb.pragma('cache_size = -2000');
    deliveryDb.exec(DELIVERY_LOG_SCHEMA);
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

  /** The insert as the store thread receives it (see encoded-insert.ts). */
  insertEncoded(insert: EncodedInsert): Promise<EncodedInsertResult> {
    const statements = this.statements;
    if (!statements) return Promise.reject(new StoreUnavailableError('embedded store is not open'));
    return this.commit.submit((db) => insertOne(db, statements, insert));
  }

  async getIncident(idOrNumber: string): Promise<Incident | undefined> {
    const row = this.requireStatements().byIdOrNumber.get(idOrNumber, idOrNumber) as { doc: string } | undefined;
    return row ? parseIncident(row.doc) : undefined;
  }

  async listIncidents(query: IncidentQuery): Promise<IncidentPage> {
    const conditions: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit + 1 };
    if (query.source) (conditions.push('source = @source'), (params.source = query.source));
    if (query.severity) (conditions.push('severity = @severity'), (params.severity = query.severity));
    if (query.status) (conditions.push('status = @status'), (params.status = query.status));
    if (query.since) (conditions.push('received_at >= @since'), (params.since = query.since));
    if (query.until) (conditions.push('received_at < @until'), (params.until = query.until));
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
function openChecked(path: string, synchronous: 'FULL' | 'NORMAL'): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    readThrough(path);
    const problems = checkProblems(db, 'quick_check', STARTUP_PROBLEMS);
    if (problems.length > 0) throw new StoreDamagedError({ file: path, problems, recovery: recovery(path) });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
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

function prepareStatements(db: Database.Database) {
  return {
    byDedupeKey: db.prepare('SELECT doc FROM incidents WHERE source = ? AND dedupe_key = ?'),
    byIdOrNumber: db.prepare('SELECT doc FROM incidents WHERE id = ? OR number = ?'),
    nextNumber: db.prepare('INSERT INTO counters (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last'),
    insert: db.prepare(
      `INSERT INTO incidents (id, number, source, dedupe_key, received_at, severity, status, doc)
       VALUES (@id, @number, @source, @dedupeKey, @receivedAt, @severity, @status, @doc)`,
    ),
  };
}

/** Runs inside the batch transaction: an existing (source, dedupe key) wins, else a new number. */
function insertOne(db: Database.Database, statements: ReturnType<typeof prepareStatements>, insert: EncodedInsert): EncodedInsertResult {
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
  if (insert.triageDueAt !== null) insertTriageEntry(db, insert.id, insert.triageDueAt);
  return { number };
}
