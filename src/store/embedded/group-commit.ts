import type Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../core/errors.js';
import { sqliteFaultKind } from './sqlite-errors.js';

interface PendingWork {
  work: (db: Database.Database) => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes submitted in the same event-loop turn share one transaction (group commit): with
 * synchronous=FULL a commit is on disk before it returns, and a burst pays one fsync instead of one
 * each, without delaying a lone request. Each unit runs in its own savepoint, so one failing unit
 * does not take the others down with it.
 */
export class GroupCommit {
  private pending: PendingWork[] = [];
  private scheduled = false;

  constructor(private readonly database: () => Database.Database | undefined) {}

  submit<R>(work: (db: Database.Database) => R): Promise<R> {
    if (!this.database()) return Promise.reject(new StoreUnavailableError('embedded store is not open'));
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (result: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything pending now (also called before close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const db = this.database();
    if (!db) {
      for (const item of batch) item.reject(new StoreUnavailableError('embedded store is closed'));
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = commitBatch(db, batch);
    } catch (error) {
      for (const item of batch) item.reject(new StoreUnavailableError('embedded store write failed', error));
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(new StoreUnavailableError('embedded store write failed', outcome.error));
    });
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The common case runs every unit flat in one transaction (a savepoint per unit costs about a third
 * of the throughput); only when that fails is the batch redone with a savepoint per unit, so the
 * failing unit is rejected alone. A fault (a damaged, full or failing file, see sqlite-errors.ts) is
 * no unit's own: nothing of the batch commits, so none of it is acknowledged into that file.
 */
function commitBatch(db: Database.Database, batch: readonly PendingWork[]): Outcome[] {
  try {
    return db.transaction(() => batch.map((item): Outcome => ({ ok: true, value: item.work(db) })))();
  } catch (error) {
    if (isFault(error)) throw error;
    return db.transaction(() =>
      batch.map((item): Outcome => {
        try {
          return { ok: true, value: db.transaction(() => item.work(db))() };
        } catch (error) {
          if (isFault(error)) throw error;
          return { ok: false, error };
        }
      }),
    )();
  }
}

function isFault(error: unknown): boolean {
  return sqliteFaultKind(error) !== undefined;
}
