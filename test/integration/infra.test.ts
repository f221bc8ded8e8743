/**
 * The servers `npm test` starts are the real things: a kube-apiserver of a current minor (our CRD
 * on it: webhook-source-crd.test.ts), a MongoDB-wire server with the semantics the store relies on,
 * a helm v3, and an `npm run infra` whose `down` leaves no process behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MongoClient, MongoServerError } from 'mongodb';
import { isOurs } from '../infra/process.js';
import { readState } from '../infra/state.js';
import { helmBin, kubectlBin, mongoFromEnv, needs } from '../helpers/servers.js';

await needs('kube', 'mongo', 'helm');

const run = promisify(execFile);

describe('the Kubernetes API server', () => {
  it('is a real kube-apiserver of a current minor, as kubectl reports', async () => {
    const { stdout } = await run(kubectlBin(), ['version', '--output=json']);
    const { serverVersion } = JSON.parse(stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    assert.equal(serverVersion.major, '1');
    assert.ok(Number.parseInt(serverVersion.minor, 10) >= 30, `server is ${serverVersion.gitVersion}`);
    assert.match(serverVersion.gitVersion, /^v1\.\d+\.\d+/);
  });
});

describe('the MongoDB-wire server', () => {
  const { uri, database } = mongoFromEnv('tw_infra');
  const client = new MongoClient(uri);
  after(() => client.close());

  it('rejects a duplicate key of a unique index with code 11000', async () => {
    const incidents = client.db(database).collection('incidents');
    await incidents.createIndex({ dedupeKey: 1 }, { unique: true });
    await incidents.insertOne({ dedupeKey: 'k1' });
    await assert.rejects(incidents.insertOne({ dedupeKey: 'k1' }), (error: unknown) => {
      assert.ok(error instanceof MongoServerError);
      assert.equal(error.code, 11000);
      return true;
    });
  });

  it('upserts a counter with $inc and returns the document after the update', async () => {
    const counters = client.db(database).collection<{ _id: string; seq: number }>('counters');
    const next = () => counters.findOneAndUpdate({ _id: 'INC-2026' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    assert.equal((await next())?.seq, 1);
    assert.equal((await next())?.seq, 2);
  });
});

describe('helm', () => {
  it('answers `helm version` with a v3 release', async () => {
    const { stdout } = await run(helmBin(), ['version', '--short']);
    assert.match(stdout, /^v3\.\d+\.\d+/);
  });
});

describe('npm run infra', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tw-infra-test-'));
  const { MONGODB_URI: _ignored, ...envWithoutMongo } = process.env;
  const infra = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'test/infra/cli.ts', ...args], { env: { ...envWithoutMongo, TW_INFRA_STATE_DIR: stateDir } });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it('starts FerretDB on PostgreSQL with `up mongo`, prints its URI, and `down` leaves no process or folder behind', async () => {
    const { stdout } = await infra('up', 'mongo');
    const uri = /^export MONGODB_URI='(.+)'$/m.exec(stdout)?.[1];
    assert.ok(uri, `no MONGODB_URI in: ${stdout}`);
    const client = new MongoClient(uri);
    try {
      assert.deepEqual(await client.db('admin').command({ ping: 1 }), { ok: 1 });
    } finally {
      await client.close();
    }
    const [started] = readState(stateDir);
    assert.ok(started && started.workDir);
    assert.deepEqual(
      started.servers.map((server) => server.name),
      ['postgres', 'ferretdb'],
    );

    await infra('down');
    for (const server of started.servers) assert.equal(isOurs(server), false, `${server.name} (pid ${server.pid}) still runs`);
    assert.equal(existsSync(started.workDir), false);
    assert.deepEqual(readState(stateDir), []);
  });
});
