import type Database from 'better-sqlite3';
import type { DeliveryLogStore, DeliveryRecord } from '../../incidents/ports.js';

export const DELIVERY_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  source TEXT NOT NULL,
  status INTEGER NOT NULL,
  code TEXT,
  latency_ms REAL NOT NULL,
  incident_id TEXT,
  queue_id TEXT,
  remote_address TEXT,
  incident_number TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_at ON deliveries (at);
CREATE INDEX IF NOT EXISTS deliveries_source ON deliveries (source, seq);
`;

/** Columns added after the table first shipped: a log written by an older version gets them on open. */
export function upgradeDeliveryLog(db: Database.Database): void {
  const columns = new Set((db.prepare('PRAGMA table_info(deliveries)').all() as { name: string }[]).map((column) => column.name));
  if (!columns.has('incident_number')) db.exec('ALTER TABLE deliveries ADD COLUMN incident_number TEXT');
}

interface DeliveryRow {
  at: string;
  source: string;
  status: number;
  code: string | null;
  latency_ms: number;
  incident_id: string | null;
  incident_number: string | null;
  queue_id: string | null;
  remote_address: string | null;
}

/** On a database of its own that commits without fsync: the log is best-effort, incidents are not. */
export class EmbeddedDeliveryLog implements DeliveryLogStore {
  constructor(private readonly database: () => Database.Database) {}

  async appendDeliveries(records: readonly DeliveryRecord[]): Promise<void> {
    const db = this.database();
    const insert = db.prepare(
      `INSERT INTO deliveries (at, source, status, code, latency_ms, incident_id, incident_number, queue_id, remote_address)
       VALUES (@at, @source, @status, @code, @latencyMs, @incidentId, @incidentNumber, @queueId, @remoteAddress)`,
    );
    db.transaction(() => {
      for (const record of records) insert.run(record);
    })();
  }

  async listDeliveries(query: { source?: string; limit: number }): Promise<DeliveryRecord[]> {
    const where = query.source === undefined ? '' : 'WHERE source = @source';
    const rows = this.database()
      .prepare(`SELECT * FROM deliveries ${where} ORDER BY seq DESC LIMIT @limit`)
      .all(query.source === undefined ? { limit: query.limit } : { source: query.source, limit: query.limit }) as DeliveryRow[];
    return rows.map((row) => ({
      at: row.at,
      source: row.source,
      status: row.status,
      code: row.code,
      latencyMs: row.latency_ms,
      incidentId: row.incident_id,
      incidentNumber: row.incident_number,
      queueId: row.queue_id,
      remoteAddress: row.remote_address,
    }));
  }

  async pruneDeliveries(before: string): Promise<number> {
    return this.database().prepare('DELETE FROM deliveries WHERE at < ?').run(before).changes;
  }
}
