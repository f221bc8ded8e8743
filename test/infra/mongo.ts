import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { cachedBinary, progress } from './build.js';
import { freePort, retryOnce, startDetached, stopServer, waitForServer, type ServerProcess } from './process.js';
import type { Started } from './state.js';
import { versions } from './versions.js';

/*
 * What FerretDB v1.24 on SQLite does and does not do, measured with the mongodb driver (v7):
 * unique indexes are enforced atomically (E11000); `w: 'majority'` write concerns are accepted;
 * transactions ("unknown field autocommit") and change streams are not implemented; and `$inc`
 * (updateOne or findOneAndUpdate) is NOT atomic across concurrent connections: 4 clients × 100
 * increments ended at ~200, and racing upserts can fail with E11000 where MongoDB would retry.
 */

/** The FerretDB binary, built once into the cache. */
export function ferretdbBinary(): Promise<string> {
  return cachedBinary({
    binary: 'ferretdb',
    moduleDir: 'ferretdb',
    pinned: { module: 'github.com/FerretDB/FerretDB', version: versions.ferretdb },
    // Our main.go around FerretDB's embeddable server; its own cmd/ferretdb cannot start from a proxy build.
    goPackage: 'tw-webhooks/infra/ferretdb',
  });
}

/** FerretDB in a fresh temp folder on a free loopback port, for `up mongo`; a failed start is retried once. */
export function startFerretdb(binary: string): Promise<Started> {
  return retryOnce('ferretdb', () => startFerretdbOnce(binary));
}

async function startFerretdbOnce(binary: string): Promise<Started> {
  const workDir = mkdtempSync(join(tmpdir(), 'tw-mongo-'));
  const started = Date.now();
  try {
    const port = await freePort();
    const server = await runFerretdb(binary, port, workDir);
    progress(`ferretdb ${versions.ferretdb} ready on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { component: 'mongo', servers: [server], workDir, env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/` } };
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Runs FerretDB on `port` with its SQLite files and log in `workDir` (reusing what is there, so a
 * restart keeps the data); resolves once the driver's ping answers.
 */
export async function runFerretdb(binary: string, port: number, workDir: string): Promise<ServerProcess> {
  const dataDir = join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const server = startDetached('ferretdb', binary, [`--listen-addr=127.0.0.1:${port}`, `--sqlite-url=file:${dataDir}/`], join(workDir, 'ferretdb.log'));
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
