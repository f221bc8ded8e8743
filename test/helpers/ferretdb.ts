/**
 * A FerretDB of its own for tests that take the database away: the MongoDB-wire server is killed
 * with SIGKILL and restarted on the same port over the same PostgreSQL data, as an operator's
 * restart would. Built by the infra (cached).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ferretdbBinaries, runFerretdb, type FerretdbBinaries } from '../infra/mongo.js';
import { garbleEveryPage, relationFiles, runPostgres, stopPostgres } from '../infra/postgres.js';
import { freePort, isOurs, stopServer, type ServerProcess } from '../infra/process.js';

export class DedicatedFerretdb {
  private server: ServerProcess | undefined;
  private postgres: { server: ServerProcess; url: string } | undefined;

  private constructor(
    private readonly binaries: FerretdbBinaries,
    private readonly workDir: string,
    private readonly postgresPort: number,
    readonly port: number,
  ) {}

  static async start(): Promise<DedicatedFerretdb> {
    const db = await DedicatedFerretdb.reserve();
    await db.restart();
    return db;
  }

  /** Ports and a data folder, nothing listening yet: a database that is down until restart(). */
  static async reserve(): Promise<DedicatedFerretdb> {
    const workDir = mkdtempSync(join(tmpdir(), 'tw-ferretdb-'));
    return new DedicatedFerretdb(await ferretdbBinaries(), workDir, await freePort(), await freePort());
  }

  uri(database: string): string {
    return `mongodb://127.0.0.1:${this.port}/${database}`;
  }

  /**
   * Damages a collection's storage under FerretDB, as a failing disk would: PostgreSQL is stopped,
   * every page of the collection's table and indexes is overwritten with garbage, and it is started
   * again on the same data. Reads of the collection then fail inside the server ("invalid page in
   * block …"), which FerretDB answers with InternalError, while the other collections still work.
   */
  async damageCollection(database: string, collection: string): Promise<void> {
    const postgres = this.postgres;
    if (!postgres) throw new Error('the database is not running');
    const files = relationFiles(this.binaries.postgres, this.postgresPort, database, collection);
    if (files.length === 0) throw new Error(`no PostgreSQL relations hold ${database}.${collection}`);
    await stopPostgres(postgres.server);
    this.postgres = undefined;
    for (const file of files) garbleEveryPage(join(this.workDir, 'postgres', file));
    this.postgres = await runPostgres(this.binaries.postgres, this.postgresPort, this.workDir);
  }

  /** (Re)starts the MongoDB-wire server on the same port and data (PostgreSQL first, if it is not up); resolves once it answers a ping. */
  async restart(): Promise<void> {
    this.postgres ??= await runPostgres(this.binaries.postgres, this.postgresPort, this.workDir);
    this.server = await runFerretdb(this.binaries.ferretdb, this.port, this.postgres.url, this.workDir);
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
    if (this.postgres) await stopServer(this.postgres.server);
    this.server = undefined;
    this.postgres = undefined;
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
