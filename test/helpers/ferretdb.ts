/**
 * A FerretDB of its own for tests that take the database away: killed with SIGKILL and restarted
 * on the same port and data folder, as an operator's restart would. Built by the infra (cached).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ferretdbBinary, runFerretdb } from '../infra/mongo.js';
import { freePort, isOurs, stopServer, type ServerProcess } from '../infra/process.js';

export class DedicatedFerretdb {
  private server: ServerProcess | undefined;

  private constructor(
    private readonly binary: string,
    private readonly workDir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<DedicatedFerretdb> {
    const db = await DedicatedFerretdb.reserve();
    await db.restart();
    return db;
  }

  /** A port and a data folder, nothing listening yet: a database that is down until restart(). */
  static async reserve(): Promise<DedicatedFerretdb> {
    const workDir = mkdtempSync(join(tmpdir(), 'tw-ferretdb-'));
    return new DedicatedFerretdb(await ferretdbBinary(), workDir, await freePort());
  }

  uri(database: string): string {
    return `mongodb://127.0.0.1:${this.port}/${database}`;
  }

  /** FerretDB's SQLite backend keeps each database in a file of its own (see runFerretdb). */
  databaseFile(database: string): string {
    return join(this.workDir, 'data', `${database}.sqlite`);
  }

  /** (Re)starts the server on the same port and data; resolves once it answers a ping. */
  async restart(): Promise<void> {
    this.server = await runFerretdb(this.binary, this.port, this.workDir);
  }

  /** SIGKILL: the database vanishes mid-operation. */
  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    process.kill(server.pid, 'SIGKILL');
    while (isOurs(server)) await sleep(20);
    this.server = undefined;
  }

  async stop(): Promise<void> {
    if (this.server) await stopServer(this.server);
    this.server = undefined;
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
