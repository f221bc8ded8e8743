/**
 * Damages a SQLite file the way a failing disk or a stray write would: whole pages overwritten
 * with garbage. Used on the embedded store's files.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Random bytes for whole pages, each page's first byte (where a b-tree page keeps its type) set to
 * a type that does not exist: garbage SQLite can never mistake for a page, so no test depends on
 * what the random bytes happened to be.
 */
function garbage(pageSize: number, pages: number): Buffer {
  const bytes = randomBytes(pageSize * pages);
  for (let page = 0; page < pages; page++) bytes[page * pageSize] = 0xa5;
  return bytes;
}

/** Overwrites the pages numbered `pages` (1-based, as SQLite counts them) with garbage. */
export function overwritePages(file: string, pageSize: number, pages: readonly number[]): void {
  const fd = openSync(file, 'r+');
  try {
    for (const page of pages) writeSync(fd, garbage(pageSize, 1), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

/**
 * `count` consecutive pages holding rows of `table`, from the middle of a file no process has open:
 * leaf pages of its b-tree, as the dbstat table lists them, so the damage hits stored data.
 */
export function dataPagesInTheMiddle(file: string, table: string, count: number): { pages: number[]; pageSize: number } {
  const db = new Database(file, { readonly: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const leaves = db.prepare(`SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' AND ncell > 0 ORDER BY pageno`).pluck().all(table) as number[];
    const runs = leaves.filter((page, index) => leaves.slice(index, index + count).every((next, offset) => next === page + offset));
    const pageCount = db.pragma('page_count', { simple: true }) as number;
    const middle = runs.reduce((best, page) => (Math.abs(page - pageCount / 2) < Math.abs(best - pageCount / 2) ? page : best), runs[0]!);
    if (middle === undefined) throw new Error(`${file}: no ${count} consecutive leaf pages of ${table}`);
    return { pages: Array.from({ length: count }, (_, offset) => middle + offset), pageSize };
  } finally {
    db.close();
  }
}

/**
 * Overwrites the root pages of the named tables and indexes while another process has the file open,
 * so that its next statements on them fail. SQLite keeps the pages it read in its own cache, and
 * recent pages live in the write-ahead log, so bytes changed under it are not necessarily read
 * again: this connection first checkpoints the log into the file (the damaged pages are then where
 * every reader looks), and after the damage commits a write of its own, which tells every other
 * connection (through the shared WAL index) to drop its cache at its next read. Every statement on
 * those tables or indexes starts at their root page, so the next one reads the garbage.
 * Returns the pages damaged.
 */
export function damageRootPagesUnder(file: string, names: readonly string[]): number[] {
  const db = new Database(file);
  try {
    // The other process may be committing: wait for its lock like it would wait for ours.
    db.pragma('busy_timeout = 5000');
    const checkpoint = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (checkpoint[0]?.busy !== 0) throw new Error(`${file}: the checkpoint was blocked by a reader`);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = names.map((name) => {
      const root = db.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').pluck().get(name) as number | undefined;
      if (!root) throw new Error(`${file}: no table or index named ${name}`);
      return root;
    });
    overwritePages(file, pageSize, pages);
    // Page 1 only (the header's user version): nothing the damaged b-trees hold.
    db.pragma(`user_version = ${(db.pragma('user_version', { simple: true }) as number) + 1}`);
    return pages;
  } finally {
    db.close();
  }
}
