import type { Db, IndexDescription } from 'mongodb';

/** Created at open(); createIndexes is idempotent, so every replica may run it at start-up. */
const INDEXES: Record<string, IndexDescription[]> = {
  incidents: [
    // Exactly-once: a second insert of the same event fails with E11000 and reads the original.
    { key: { source: 1, dedupeKey: 1 }, name: 'source_dedupeKey', unique: true },
    { key: { number: 1 }, name: 'number', unique: true },
    // The read API: newest first (keyset on receivedAt, _id), by source, by severity/status.
    { key: { receivedAt: -1, _id: -1 }, name: 'receivedAt_id' },
    { key: { source: 1, receivedAt: -1 }, name: 'source_receivedAt' },
    { key: { severity: 1, status: 1, receivedAt: -1 }, name: 'severity_status_receivedAt' },
    // The triage outbox: due pending requests.
    { key: { 'triage.state': 1, 'triage.nextAttemptAt': 1 }, name: 'triage_due' },
  ],
  inbox: [{ key: { status: 1, dueAt: 1 }, name: 'status_dueAt' }],
  deliveries: [{ key: { source: 1, at: -1 }, name: 'source_at' }],
};

export async function createIndexes(db: Db, deliveryRetentionSeconds: number): Promise<void> {
  for (const [collection, indexes] of Object.entries(INDEXES)) await db.collection(collection).createIndexes(indexes);
  // Retention of the delivery log: MongoDB (and FerretDB) delete expired documents themselves.
  await db.collection('deliveries').createIndex({ at: 1 }, { name: 'at_ttl', expireAfterSeconds: deliveryRetentionSeconds });
}
