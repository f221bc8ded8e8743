import type Database from 'better-sqlite3';
import type { Incident, TriageInfo, TriageState } from '../../incidents/model.js';
import type { Claim, TriageOutboxStore, TriageOutcome } from '../../incidents/ports.js';
import { triageChanges } from '../triage-outcome.js';
import { parseIncident } from './encoded-insert.js';

/**
 * The incident row's JSON holds the triage info the API shows; this table indexes it for claiming
 * and listing. Both are written in the same transaction (the incident insert, each state change).
 */
export const TRIAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS triage_outbox (
  incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
  state TEXT NOT NULL,
  next_attempt_at TEXT,
  attempts INTEGER NOT NULL,
  claimed_by TEXT
);
CREATE INDEX IF NOT EXISTS triage_outbox_due ON triage_outbox (state, next_attempt_at);
`;

/** Called inside the incident's insert transaction: the outbox entry is written with the incident. */
export function insertTriageEntry(db: Database.Database, incidentId: string, dueAt: string): void {
  db.prepare(`INSERT INTO triage_outbox (incident_id, state, next_attempt_at, attempts) VALUES (?, 'pending', ?, 0)`).run(incidentId, dueAt);
}

/** Queues an incident for triage again (re-normalization): its triage state and its outbox entry, both pending from `triage.nextAttemptAt`. */
export function requeueTriageEntry(db: Database.Database, incidentId: string, triage: TriageInfo): void {
  db.prepare(`UPDATE incidents SET doc = json_set(doc, '$.triage', json(?)) WHERE id = ?`).run(JSON.stringify(triage), incidentId);
  db.prepare(
    `INSERT INTO triage_outbox (incident_id, state, next_attempt_at, attempts) VALUES (?, 'pending', ?, 0)
     ON CONFLICT (incident_id) DO UPDATE SET state = 'pending', next_attempt_at = excluded.next_attempt_at, attempts = 0, claimed_by = NULL`,
  ).run(incidentId, triage.nextAttemptAt);
}

export class EmbeddedTriageOutbox implements TriageOutboxStore {
  constructor(private readonly database: () => Database.Database) {}

  async claimTriage(worker: string, now: Date, leaseMs: number): Promise<Incident | undefined> {
    const db = this.database();
    return db.transaction(() => {
      const due = db
        .prepare(
          `SELECT i.doc FROM triage_outbox t JOIN incidents i ON i.id = t.incident_id
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
      writeTriage(db, incident.id, triage, worker);
      return { ...incident, triage };
    })();
  }

  async finishTriage(claim: Claim, outcome: TriageOutcome): Promise<boolean> {
    const db = this.database();
    return db.transaction(() => {
      const row = db
        .prepare(
          `SELECT i.doc FROM triage_outbox t JOIN incidents i ON i.id = t.incident_id WHERE t.incident_id = ? AND t.state = 'pending' AND t.attempts = ?`,
        )
        .get(claim.id, claim.attempts) as { doc: string } | undefined;
      if (!row) return false;
      const { triage } = JSON.parse(row.doc) as Incident;
      writeTriage(db, claim.id, { ...triage, ...triageChanges(outcome) }, null);
      return true;
    })();
  }

  async listTriage(query: { state: Exclude<TriageState, 'none'>; limit: number }): Promise<Incident[]> {
    const rows = this.database()
      .prepare(
        `SELECT i.doc FROM triage_outbox t JOIN incidents i ON i.id = t.incident_id
         WHERE t.state = ? ORDER BY t.next_attempt_at, t.incident_id LIMIT ?`,
      )
      .all(query.state, query.limit) as { doc: string }[];
    return rows.map((row) => parseIncident(row.doc));
  }

  async countPendingTriage(): Promise<number> {
    return (this.database().prepare(`SELECT count(*) AS pending FROM triage_outbox WHERE state = 'pending'`).get() as { pending: number }).pending;
  }
}

function writeTriage(db: Database.Database, incidentId: string, triage: TriageInfo, claimedBy: string | null): void {
  db.prepare(`UPDATE incidents SET doc = json_set(doc, '$.triage', json(?)) WHERE id = ?`).run(JSON.stringify(triage), incidentId);
  db.prepare(`UPDATE triage_outbox SET state = ?, next_attempt_at = ?, attempts = ?, claimed_by = ? WHERE incident_id = ?`).run(
    triage.state,
    triage.nextAttemptAt,
    triage.attempts,
    claimedBy,
    incidentId,
  );
}
