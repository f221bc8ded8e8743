import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { isOurs, startDetached, stopServer, waitForServer, type RunAs, type ServerProcess } from './process.js';

/**
 * A private PostgreSQL cluster for FerretDB: Debian's `postgresql` package provides the binaries
 * (in /usr/lib/postgresql/<major>/bin, not on PATH); PG_BIN names another folder with them.
 */
export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'postgres'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return join(root, newest, 'bin');
  const onPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (onPath.status === 0 && existsSync(join(onPath.stdout.trim(), 'postgres'))) return onPath.stdout.trim();
  throw new Error(
    'PostgreSQL is needed for the MongoDB-wire test server (FerretDB): `apt-get install postgresql`, or set PG_BIN to a folder with initdb and postgres',
  );
}

const SUPERUSER = 'postgres';
const FERRETDB_DATABASE = 'ferretdb';

/**
 * PostgreSQL refuses to run as root. As root the cluster belongs to the `postgres` OS user the
 * Debian package creates, and the work folder is handed to it; anyone else runs it as themselves.
 */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, SUPERUSER], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(`PostgreSQL cannot run as root and there is no '${SUPERUSER}' user to run it as (Debian's postgresql package creates it)`);
  }
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/**
 * Runs a cluster in `workDir/postgres` on a loopback port (initialised on first use, reused after,
 * so a restart keeps the data), TCP only, trust authentication (loopback, throwaway data), with
 * PostgreSQL's durable defaults (fsync, synchronous commit) kept: each acknowledged write is on disk.
 * Resolves with the URL of its `ferretdb` database once that exists.
 */
export async function runPostgres(binDir: string, port: number, workDir: string): Promise<{ server: ServerProcess; url: string }> {
  const user = runAs();
  if (user) chownSync(workDir, user.uid, user.gid);
  const dataDir = join(workDir, 'postgres');
  const logFile = join(workDir, 'postgres.log');
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(dataDir, { recursive: true });
    if (user) chownSync(dataDir, user.uid, user.gid);
    const init = spawnSync(join(binDir, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'], {
      encoding: 'utf8',
      ...user,
    });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}):\n${init.stderr}`);
  }
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const server = startDetached('postgres', join(binDir, 'postgres'), args, logFile, user);
  const ready = () => spawnSync(join(binDir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]).status === 0;
  try {
    await waitForServer(server, async () => ready(), 30_000);
    if (fresh) {
      const created = spawnSync(join(binDir, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, FERRETDB_DATABASE], { encoding: 'utf8' });
      if (created.status !== 0) throw new Error(`createdb failed (${created.status}):\n${created.stderr}`);
    }
  } catch (error) {
    await stopServer(server);
    throw error;
  }
  return { server, url: `postgres://${SUPERUSER}@127.0.0.1:${port}/${FERRETDB_DATABASE}` };
}

/**
 * The data files (relative to the data folder) of the table FerretDB keeps a collection in and of
 * its indexes. FerretDB names a database's schema after it, a collection's table
 * `<collection>_<8 hex digits>` and that table's indexes `<table>_<index>_<8 hex digits>_idx`.
 */
export function relationFiles(binDir: string, port: number, database: string, collection: string): string[] {
  const query =
    'SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ' +
    `WHERE n.nspname = '${database}' AND c.relkind IN ('r', 'i') AND c.relname ~ '^${collection}_[0-9a-f]{8}(_|$)'`;
  const psql = spawnSync(join(binDir, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, '-d', FERRETDB_DATABASE, '-At', '-c', query], {
    encoding: 'utf8',
  });
  if (psql.status !== 0) throw new Error(`psql failed (${psql.status}):\n${psql.stderr}`);
  return psql.stdout.split('\n').filter((line) => line !== '');
}

/** A fast shutdown (SIGINT to the postmaster: sessions are ended, not waited for); resolves once it is gone. */
export async function stopPostgres(server: ServerProcess): Promise<void> {
  if (isOurs(server)) process.kill(server.pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isOurs(server) && Date.now() < deadline) await sleep(50);
  await stopServer(server);
}

const PAGE_BYTES = 8192;

/**
 * Overwrites every page of a relation file with random bytes whose page header cannot be valid
 * (pd_special, at byte 16, beyond the page), so PostgreSQL refuses each page it reads whatever
 * the random bytes were.
 */
export function garbleEveryPage(file: string): void {
  const pages = Math.max(1, Math.ceil(statSync(file).size / PAGE_BYTES));
  const garbage = randomBytes(pages * PAGE_BYTES);
  for (let page = 0; page < pages; page++) garbage.writeUInt16LE(0xffff, page * PAGE_BYTES + 16);
  writeFileSync(file, garbage);
}
