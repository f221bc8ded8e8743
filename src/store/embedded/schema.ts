/** Normalized fields the read API filters on are columns; the incident itself is one JSON document. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS counters (
  year INTEGER PRIMARY KEY,
  last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  received_at TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL,
  UNIQUE (source, dedupe_key)
);
CREATE INDEX IF NOT EXISTS incidents_received ON incidents (received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS incidents_source_received ON incidents (source, received_at DESC);
CREATE INDEX IF NOT EXISTS incidents_severity_status ON incidents (severity, status, received_at DESC);
`;
