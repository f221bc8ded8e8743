import type Database from 'better-sqlite3';
import type { ApiKeyRecord, ApiKeyStore } from '../../apikeys/api-key.js';
import type { RegisteredSourceRecord, RegisteredSourceStore } from '../../sources/registered-source.js';
import type { AuditRecord, AuditStore } from '../../audit/audit.js';

/** API keys (by id, found by token hash), sources registered through the API, and the audit log of their changes, each one JSON row. */
export const OPERATOR_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registered_sources (
  name TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  target TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log (target, at DESC, id DESC);
`;

export class EmbeddedApiKeys implements ApiKeyStore {
  constructor(private readonly database: () => Database.Database) {}

  async insertApiKey(record: ApiKeyRecord): Promise<void> {
    this.database()
      .prepare('INSERT INTO api_keys (id, hash, created_at, doc) VALUES (?, ?, ?, ?)')
      .run(record.id, record.hash, record.createdAt, JSON.stringify(record));
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.database().prepare('SELECT doc FROM api_keys WHERE hash = ?').get(hash) as { doc: string } | undefined;
    return row && (JSON.parse(row.doc) as ApiKeyRecord);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = this.database().prepare('SELECT doc FROM api_keys ORDER BY created_at, id').all() as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as ApiKeyRecord);
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.database().prepare('DELETE FROM api_keys WHERE id = ?').run(id).changes > 0;
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    this.database().prepare(`UPDATE api_keys SET doc = json_set(doc, '$.lastUsedAt', ?) WHERE id = ?`).run(at, id);
  }
}

export class EmbeddedRegisteredSources implements RegisteredSourceStore {
  constructor(private readonly database: () => Database.Database) {}

  async insertRegisteredSource(record: RegisteredSourceRecord): Promise<boolean> {
    return this.database().prepare('INSERT OR IGNORE INTO registered_sources (name, doc) VALUES (?, ?)').run(record.name, JSON.stringify(record)).changes > 0;
  }

  async getRegisteredSource(name: string): Promise<RegisteredSourceRecord | undefined> {
    const row = this.database().prepare('SELECT doc FROM registered_sources WHERE name = ?').get(name) as { doc: string } | undefined;
    return row && (JSON.parse(row.doc) as RegisteredSourceRecord);
  }

  async listRegisteredSources(): Promise<RegisteredSourceRecord[]> {
    const rows = this.database().prepare('SELECT doc FROM registered_sources ORDER BY name').all() as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as RegisteredSourceRecord);
  }

  async replaceRegisteredSource(record: RegisteredSourceRecord): Promise<boolean> {
    return this.database().prepare('UPDATE registered_sources SET doc = ? WHERE name = ?').run(JSON.stringify(record), record.name).changes > 0;
  }

  async deleteRegisteredSource(name: string): Promise<boolean> {
    return this.database().prepare('DELETE FROM registered_sources WHERE name = ?').run(name).changes > 0;
  }
}

export class EmbeddedAuditLog implements AuditStore {
  constructor(private readonly database: () => Database.Database) {}

  async appendAudit(record: AuditRecord): Promise<void> {
    this.database().prepare('INSERT INTO audit_log (id, at, target, doc) VALUES (?, ?, ?, ?)').run(record.id, record.at, record.target, JSON.stringify(record));
  }

  async listAudit(query: { limit: number; target?: string }): Promise<AuditRecord[]> {
    const rows = (
      query.target === undefined
        ? this.database().prepare('SELECT doc FROM audit_log ORDER BY at DESC, id DESC LIMIT ?').all(query.limit)
        : this.database().prepare('SELECT doc FROM audit_log WHERE target = ? ORDER BY at DESC, id DESC LIMIT ?').all(query.target, query.limit)
    ) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as AuditRecord);
  }
}
