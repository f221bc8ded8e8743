import type Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SpaceReclaimed } from '../store.js';

/*
 * How the incidents file gives the space of pruned rows back to the file system
 * (docs/operations.md, "Retention"). SQLite keeps freed pages inside the file for reuse; with
 * auto_vacuum=INCREMENTAL each `incremental_vacuum(N)` moves up to N pages from the end of the file
 * into free slots and truncates it, a bounded step the store thread takes between other calls.
 * Measured here on a 249 MB file with 27,000 free pages (half its rows deleted): 1,024 pages per
 * step took 54 ms on average (230 ms at most), so a step is 256 pages (1 MB): about 14 ms.
 */
const RECLAIM_PAGES_PER_STEP = 256;

const AUTO_VACUUM_INCREMENTAL = 2;

/** What opening did to a file made before the store vacuumed incrementally. */
export type VacuumConversion = { file: string } & ({ converted: true; ms: number; bytes: number } | { converted: false; reason: string });

/** Asked of a new file before its first page exists (setting the WAL journal writes the first page). */
export function vacuumIncrementally(db: Database.Database): void {
  db.pragma('auto_vacuum = INCREMENTAL');
}

/**
 * auto_vacuum can only change when a file is rewritten. A file made before it was set is rewritten
 * once at start-up, before the service serves: `VACUUM INTO` a new file (which takes the pending
 * setting), synced, then renamed over the old one once the old connection closed and took its
 * write-ahead log with it. 2.1 s for a 249 MB file here; a plain VACUUM took 6.8 s and grows the
 * log to the file's size. It needs room for the copy beside the file: without it the file stays
 * as it is (freed pages are reused, not given back) and the next start tries again.
 * Returns the connection to go on with: the reopened new file, or `db` itself.
 */
export function convertToIncrementalVacuum(
  db: Database.Database,
  path: string,
  reopen: () => Database.Database,
): { db: Database.Database; conversion: VacuumConversion | undefined } {
  if (db.pragma('auto_vacuum', { simple: true }) === AUTO_VACUUM_INCREMENTAL) return { db, conversion: undefined };
  const bytes = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  const room = statfsSync(dirname(path));
  const available = room.bavail * room.bsize;
  // The copy, plus some slack for the write-ahead log of the requests that follow.
  const needed = bytes * 1.1 + 64 * 1024 * 1024;
  if (available < needed) {
    return { db, conversion: { file: path, converted: false, reason: `needs ${mb(needed)} MB free beside the file, ${mb(available)} MB are` } };
  }
  const copy = `${path}.vacuum`;
  rmSync(copy, { force: true });
  const started = performance.now();
  vacuumIncrementally(db);
  db.prepare('VACUUM INTO ?').run(copy);
  syncFile(copy);
  db.close();
  if (existsSync(`${path}-wal`)) {
    // Another connection kept the log: replacing the file under it would lose its commits.
    rmSync(copy, { force: true });
    return { db: reopen(), conversion: { file: path, converted: false, reason: 'its write-ahead log was still in use' } };
  }
  renameSync(copy, path);
  syncFile(dirname(path));
  return { db: reopen(), conversion: { file: path, converted: true, ms: Math.round(performance.now() - started), bytes } };
}

/** One step of giving free pages back. */
export function reclaimStep(db: Database.Database): SpaceReclaimed {
  const free = () => db.pragma('freelist_count', { simple: true }) as number;
  const before = free();
  if (before > 0) db.pragma(`incremental_vacuum(${RECLAIM_PAGES_PER_STEP})`);
  const left = free();
  // In WAL mode the file shrinks when the log is checkpointed: done once the free pages are gone.
  if (before > 0 && left === 0) db.pragma('wal_checkpoint(PASSIVE)');
  return { pages: before - left, left };
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const mb = (bytes: number) => Math.round(bytes / 1e6);
