import type Database from 'better-sqlite3';
import type { Incident, TriageInfo, TriageState } from '../../incidents/model.js';
import type { Claim, TriageOutboxStore, TriageOutcome } from '../../incidents/ports.js';
import { triageChanges } from '../triage-outcome.js';
import { parseIncident } from './encoded-insert.js';

/**
 * The incident row's JSON holds the triage info the API shows; this table indexes it for claiming
 * and listing. Both are written in the same transaction (the incident insert, each state change).
 * Keyed by the incident's number, not its id: numbers grow, so a new entry lands on the table's
 * last page, where a random uuid key dirtied a random page of its own index on every insert (an
 * eighth of an insert's CPU). WITHOUT ROWID: the key is the table.
 */
export const TRIAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS triage_outbox (
  incident_number TEXT PRIMARY KEY REFERENCES incidents (number),
  state TEXT NOT NULL,
  next_attempt_at TEXT,
  attempts INTEGER NOT NULL,
  claimed_by TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS triage_outbox_due ON triage_outbox (state, next_attempt_at);
`;

/** Run inside the incident's insert transaction (incident number, due time): the outbox entry is written with the incident. */
export const INSERT_TRIAGE_ENTRY = `INSERT INTO triage_outbox (incident_number, state, next_attempt_at, attempts) VALUES (?, 'pending', ?, 0)`;

/**
 * A file written before the outbox was keyed by number has it keyed by incident id: its entries
 * move into today's table (one transaction, before anything is served). Called before
 * TRIAGE_SCHEMA runs.
 */
export function upgradeTriageOutbox(db: Database.Database): void {
  const columns = new Set((db.prepare('PRAGMA table_info(triage_outbox)').all() as { name: string }[]).map((column) => column.name));
  if (!columns.has('incident_id')) return;
  db.transaction(() => {
    db.exec(`ALTER TABLE triage_outbox RENAME TO triage_outbox_by_id; DROP INDEX IF EXISTS triage_outbox_due;${TRIAGE_SCHEMA}`);
    db.exec(`INSERT INTO triage_outbox (incident_number, state, next_attempt_at, attempts, claimed_by)
             SELECT i.number, t.state, t.next_attempt_at, t.attempts, t.claimed_by FROM triage_outbox_by_id t JOIN incidents i ON i.id = t.incident_id;
             DROP TABLE triage_outbox_by_id;`);
  })();
}

/** Queues an incident for triage again (re-normalization): its triage state and its outbox entry, both pending from `triage.nextAttemptAt`. */
export function requeueTriageEntry(db: Database.Database, incidentNumber: string, triage: TriageInfo): void {
  db.prepare(`UPDATE incidents SET doc = json_set(doc, '$.triage', json(?)) WHERE number = ?`).run(JSON.stringify(triage), incidentNumber);
  db.prepare(
    `INSERT INTO triage_outbox (incident_number, state, next_attempt_at, attempts) VALUES (?, 'pending', ?, 0)
     ON CONFLICT (incident_number) DO UPDATE SET state = 'pending', next_attempt_at = excluded.next_attempt_at, attempts = 0, claimed_by = NULL`,
  ).run(incidentNumber, triage.nextAttemptAt);
}

export class EmbeddedTriageOutbox implements TriageOutboxStore {
  constructor(private readonly database: () => Database.Database) {}

  async claimTriage(worker: string, now: Date, leaseMs: number): Promise<Incident | undefined> {
    const db = this.database();
    return db.transaction(() => {
      const due = db
        .prepare(
          `SELECT i.doc FROM triage_outbox t JOIN incidents i ON i.number = t.incident_number
           WHERE t.state = 'pending' AND t.next_attempt_at <= ? ORDER BY t.next_attempt_at LIMIT 1`,
        )
        .get(now.toISOString()) as { doc: string } | undefined;
      if (!due) return undefined;
      const incident = parseIncident(due.doc);
      const triage: TriageInfo = {
        ...incident.triage,
        attempts: incident.triage.attempts + 1,
        nextAttemptAt: new Date(now.getTime() + leaseMs).toISOString(),
      };
      writeTriage(db, incident.number, triage, worker);
      return { ...incident, triage };
    })();
  }

  async finishTriage(claim: Claim, outcome: TriageOutcome): Promise<boolean> {
    const db = this.database();
    return db.transaction(() => {
      const row = db
        .prepare(`SELECT i.doc FROM triage_outbox t JOIN incidents i ON i.number = t.incident_number WHERE i.id = ? AND t.state = 'pending' AND t.attempts = ?`)
        .get(claim.id, claim.attempts) as { doc: string } | undefined;
      if (!row) return false;
      const { number, triage } = JSON.parse(row.doc) as Incident;
      writeTriage(db, number, { ...triage, ...triageChanges(outcome) }, null);
      return true;
    })();
  }

  async listTriage(query: { state: Exclude<TriageState, 'none'>; limit: number }): Promise<Incident[]> {
    const rows = this.database()
      .prepare(
        `SELECT i.doc FROM triage_outbox t JOIN incidents i ON i.number = t.incident_number
         WHERE t.state = ? ORDER BY t.next_attempt_at, t.incident_number LIMIT ?`,
      )
      .all(query.state, query.limit) as { doc: string }[];
    return rows.map((row) => parseIncident(row.doc));
  }

  async countPendingTriage(): Promise<number> {
    return (this.database().prepare(`SELECT count(*) AS pending FROM triage_outbox WHERE state = 'pending'`).get() as { pending: number }).pending;
  }
}

function writeTriage(db: Database.Database, incidentNumber: string, triage: TriageInfo, claimedBy: string | null): void {
  db.prepare(`UPDATE incidents SET doc = json_set(doc, '$.triage', json(?)) WHERE number = ?`).run(JSON.stringify(triage), incidentNumber);
  db.prepare(`UPDATE triage_outbox SET state = ?, next_attempt_at = ?, attempts = ?, claimed_by = ? WHERE incident_number = ?`).run(
    triage.state,
    triage.nextAttemptAt,
    triage.attempts,
    claimedBy,
    incidentNumber,
  );
}
