import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { cachedBinary, progress } from './build.js';
import { postgresBinDir, runPostgres } from './postgres.js';
import { freePort, retryOnce, startDetached, stopServer, waitForServer, type ServerProcess } from './process.js';
import type { Started } from './state.js';
import { versions } from './versions.js';

/*
 * What FerretDB v1.24 does and does not do, measured with the mongodb driver (v7): unique indexes
 * are enforced atomically (E11000); `w: 'majority'` write concerns are accepted; transactions
 * ("unknown field autocommit") and change streams are not implemented; and `$inc` (updateOne or
 * findOneAndUpdate) is read-then-write, not atomic across concurrent connections, so racing
 * upserts can fail with E11000 where MongoDB would retry. Its PostgreSQL backend is the one
 * FerretDB recommends; see docs/performance.md for how it compares with its SQLite backend here.
 */

/** The binaries a MongoDB-wire test server needs: FerretDB (built once into the cache) and PostgreSQL's. */
export interface FerretdbBinaries {
  ferretdb: string;
  postgres: string;
}

export async function ferretdbBinaries(): Promise<FerretdbBinaries> {
  const postgres = postgresBinDir();
  const ferretdb = await cachedBinary({
    binary: 'ferretdb',
    moduleDir: 'ferretdb',
    pinned: { module: 'github.com/FerretDB/FerretDB', version: versions.ferretdb },
    // Our main.go around FerretDB's embeddable server; its own cmd/ferretdb cannot start from a proxy build.
    goPackage: 'tw-webhooks/infra/ferretdb',
  });
  return { ferretdb, postgres };
}

/** FerretDB and its PostgreSQL in a fresh temp folder on free loopback ports, for `up mongo`; a failed start is retried once. */
export function startFerretdb(binaries: FerretdbBinaries): Promise<Started> {
  return retryOnce('ferretdb', () => startFerretdbOnce(binaries));
}

async function startFerretdbOnce(binaries: FerretdbBinaries): Promise<Started> {
  const workDir = mkdtempSync(join(tmpdir(), 'tw-mongo-'));
  const started = Date.now();
  const servers: ServerProcess[] = [];
  try {
    const postgres = await runPostgres(binaries.postgres, await freePort(), workDir);
    servers.push(postgres.server);
    const port = await freePort();
    servers.push(await runFerretdb(binaries.ferretdb, port, postgres.url, workDir));
    progress(`ferretdb ${versions.ferretdb} on PostgreSQL ready on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { component: 'mongo', servers, workDir, env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/` } };
  } catch (error) {
    for (const server of servers.reverse()) await stopServer(server);
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** Runs FerretDB on `port` over the PostgreSQL database at `postgresUrl`, its log in `workDir`; resolves once the driver's ping answers. */
export async function runFerretdb(binary: string, port: number, postgresUrl: string, workDir: string): Promise<ServerProcess> {
  mkdirSync(workDir, { recursive: true });
  const server = startDetached('ferretdb', binary, [`--listen-addr=127.0.0.1:${port}`, `--postgresql-url=${postgresUrl}`], join(workDir, 'ferretdb.log'));
  try {
    await waitForServer(server, () => pingMongo(`mongodb://127.0.0.1:${port}/`), 30_000);
    return server;
  } catch (error) {
    await stopServer(server);
    throw error;
  }
}

async function pingMongo(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } finally {
    await client.close();
  }
}
