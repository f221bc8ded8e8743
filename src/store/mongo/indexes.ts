import type { Db, IndexDescription } from 'mongodb';
import type { Logger } from '../../log/logger.js';
import { isUnavailable } from './errors.js';

/** Created at open(); createIndexes is idempotent, so every replica may run it at start-up. */
const INDEXES: Record<string, IndexDescription[]> = {
  incidents: [
    // Exactly-once is `_id` (the event's source + dedupe key); the incident id and number are unique too.
    { key: { id: 1 }, name: 'id', unique: true },
    { key: { number: 1 }, name: 'number', unique: true },
    // The read API: newest first (keyset on receivedAt, id), by source, by severity/status.
    { key: { receivedAt: -1, id: -1 }, name: 'receivedAt_id' },
    { key: { source: 1, receivedAt: -1 }, name: 'source_receivedAt' },
    { key: { severity: 1, status: 1, receivedAt: -1 }, name: 'severity_status_receivedAt' },
    // The triage outbox: due pending requests.
    { key: { 'triage.state': 1, 'triage.nextAttemptAt': 1 }, name: 'triage_due' },
  ],
  inbox: [{ key: { status: 1, dueAt: 1 }, name: 'status_dueAt' }],
  deliveries: [{ key: { source: 1, at: -1 }, name: 'source_at' }],
  // A presented key is found by the hash of the token.
  api_keys: [{ key: { hash: 1 }, name: 'hash', unique: true }],
  audit_log: [
    { key: { at: -1, _id: -1 }, name: 'at' },
    { key: { target: 1, at: -1, _id: -1 }, name: 'target_at' },
  ],
  jobs: [{ key: { createdAt: -1 }, name: 'createdAt' }],
};

export async function createIndexes(db: Db, deliveryRetentionSeconds: number, logger?: Logger): Promise<void> {
  for (const [collection, indexes] of Object.entries(INDEXES)) {
    // One at a time: FerretDB 1.24 drops the connection (a server-side panic) when a createIndexes
    // with several indexes meets indexes that already exist, i.e. on every restart.
    for (const index of indexes) await db.collection(collection).createIndexes([index]);
  }
  await createRetentionIndex(db, deliveryRetentionSeconds, logger);
}

const INDEX_OPTIONS_CONFLICT = 85;

/**
 * Retention of the delivery log: MongoDB deletes expired records itself (TTL index on `at`).
 * FerretDB 1.x has no TTL indexes; there, and everywhere as a backstop, the delivery recorder's
 * periodic delete keeps the log bounded.
 */
async function createRetentionIndex(db: Db, seconds: number, logger?: Logger): Promise<void> {
  try {
    await db.collection('deliveries').createIndex({ at: 1 }, { name: 'at_ttl', expireAfterSeconds: seconds });
  } catch (error) {
    if (isUnavailable(error)) throw error;
    if ((error as { code?: number }).code === INDEX_OPTIONS_CONFLICT) {
      // The retention setting changed since the index was made: adjust it in place.
      await db.command({ collMod: 'deliveries', index: { name: 'at_ttl', expireAfterSeconds: seconds } });
      return;
    }
    logger?.info({ err: error }, 'no TTL index on this server; the delivery log is pruned periodically instead');
  }
}
