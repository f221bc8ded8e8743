import type Database from 'better-sqlite3';
import type { Claim, InboxStore, NewQueueEntry, QueueEntry, QueueOutcome, QueueStatus } from '../../incidents/ports.js';
import type { GroupCommit } from './group-commit.js';

export const INBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS inbox (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  body BLOB NOT NULL,
  headers TEXT NOT NULL,
  received_at TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  due_at TEXT NOT NULL,
  claimed_by TEXT,
  incident_id TEXT,
  incident_number TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_due ON inbox (status, due_at);
`;

interface InboxRow {
  id: string;
  source: string;
  body: Buffer;
  headers: string;
  received_at: string;
  status: QueueStatus;
  attempts: number;
  last_error: string | null;
  due_at: string;
  claimed_by: string | null;
  incident_id: string | null;
  incident_number: string | null;
  updated_at: string;
}

/** The inbox as a SQLite table; one process owns the file, so a claim is one UPDATE … RETURNING. */
export class EmbeddedInbox implements InboxStore {
  constructor(
    private readonly database: () => Database.Database,
    private readonly commit: GroupCommit,
  ) {}

  enqueue(entry: NewQueueEntry): Promise<void> {
    return this.commit.submit((db) => {
      db.prepare(
        `INSERT INTO inbox (id, source, body, headers, received_at, status, attempts, due_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
      ).run(entry.id, entry.source, entry.body, JSON.stringify(entry.headers), entry.receivedAt, entry.receivedAt, entry.receivedAt);
    });
  }

  async getEntry(id: string): Promise<QueueEntry | undefined> {
    const row = this.database().prepare('SELECT * FROM inbox WHERE id = ?').get(id) as InboxRow | undefined;
    return row && toEntry(row);
  }

  async claimEntry(worker: string, now: Date, leaseMs: number): Promise<QueueEntry | undefined> {
    const row = this.database()
      .prepare(
        `UPDATE inbox SET status = 'processing', attempts = attempts + 1, claimed_by = @worker, due_at = @leaseUntil, updated_at = @now
         WHERE id = (SELECT id FROM inbox WHERE status IN ('queued', 'processing') AND due_at <= @now ORDER BY due_at LIMIT 1)
         RETURNING *`,
      )
      .get({ worker, now: now.toISOString(), leaseUntil: new Date(now.getTime() + leaseMs).toISOString() }) as InboxRow | undefined;
    return row && toEntry(row);
  }

  async finishEntry(claim: Claim, outcome: QueueOutcome, now: Date): Promise<boolean> {
    const done = outcome.status === 'done' ? outcome : undefined;
    const result = this.database()
      .prepare(
        `UPDATE inbox SET status = @status, last_error = @error, due_at = @dueAt, claimed_by = NULL,
           incident_id = @incidentId, incident_number = @incidentNumber, updated_at = @now
         WHERE id = @id AND attempts = @attempts AND status = (CASE @attempts WHEN 0 THEN 'queued' ELSE 'processing' END)`,
      )
      .run({
        id: claim.id,
        attempts: claim.attempts,
        status: outcome.status,
        error: outcome.status === 'done' ? null : outcome.error,
        dueAt: outcome.status === 'queued' ? outcome.dueAt : now.toISOString(),
        incidentId: done?.incidentId ?? null,
        incidentNumber: done?.incidentNumber ?? null,
        now: now.toISOString(),
      });
    return result.changes === 1;
  }

  async countOpenEntries(): Promise<number> {
    const row = this.database().prepare(`SELECT count(*) AS n FROM inbox WHERE status IN ('queued', 'processing')`).get() as { n: number };
    return row.n;
  }

  /** An ended entry's due_at is when it ended, so the (status, due_at) index serves this. */
  async pruneEntries(before: string): Promise<number> {
    return this.database().prepare(`DELETE FROM inbox WHERE status IN ('done', 'dead') AND due_at < ?`).run(before).changes;
  }
}

function toEntry(row: InboxRow): QueueEntry {
  return {
    id: row.id,
    source: row.source,
    body: row.body,
    headers: JSON.parse(row.headers) as [string, string][],
    receivedAt: row.received_at,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    dueAt: row.due_at,
    claimedBy: row.claimed_by,
    incidentId: row.incident_id,
    incidentNumber: row.incident_number,
    updatedAt: row.updated_at,
  };
}
