import type { StoreFault, StoreFaultKind } from '../store.js';

/*
 * Which SQLite errors make the embedded store unhealthy (docs/operations.md, "Store faults").
 * A fault is a file that is damaged, full, unwritable or failing the disk: every statement after it
 * would fail the same way (or, worse, succeed into a damaged file), so the store stops serving and
 * /readyz says why. Transient errors (another connection holds a lock, memory pressure) answer 503
 * and the next try may work. Anything else (a constraint, an SQL mistake) is the statement's own.
 */

/** By primary result code (the part before an extended code's second underscore). */
const FAULT_KINDS: Readonly<Record<string, StoreFaultKind>> = {
  SQLITE_CORRUPT: 'corrupt',
  SQLITE_NOTADB: 'not_a_database',
  SQLITE_IOERR: 'io_error',
  SQLITE_NOLFS: 'io_error',
  SQLITE_FULL: 'disk_full',
  SQLITE_READONLY: 'read_only',
  SQLITE_CANTOPEN: 'cannot_open',
  SQLITE_PERM: 'permission',
};

/** Full or primary codes; IOERR_NOMEM is memory pressure reported through the I/O layer. */
const TRANSIENT_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_NOMEM', 'SQLITE_IOERR_NOMEM', 'SQLITE_PROTOCOL']);

/** The kinds that mean the file itself is damaged (a restore or `.recover` is the way out). */
export const DAMAGE_KINDS: ReadonlySet<StoreFaultKind> = new Set(['corrupt', 'not_a_database']);

/** The SQLite result code of an error, or of the error it wraps (the group commit wraps them). */
function sqliteCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 3; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

function primaryCode(code: string): string {
  return code.split('_', 2).join('_');
}

export function isTransientSqliteError(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (TRANSIENT_CODES.has(code) || TRANSIENT_CODES.has(primaryCode(code)));
}

/** The kind of fault an error is; undefined when it is not one. */
export function sqliteFaultKind(error: unknown): StoreFaultKind | undefined {
  const code = sqliteCode(error);
  if (code === undefined || isTransientSqliteError(error)) return undefined;
  return FAULT_KINDS[primaryCode(code)];
}

/** The fault an error is, naming the file it came from; undefined when it is not one. */
export function sqliteFault(error: unknown, file: string): StoreFault | undefined {
  const kind = sqliteFaultKind(error);
  if (kind === undefined) return undefined;
  const code = sqliteCode(error)!;
  const message = error instanceof Error && error.cause instanceof Error ? error.cause.message : (error as Error).message;
  return { kind, reason: `${file}: ${message} (${code})` };
}
