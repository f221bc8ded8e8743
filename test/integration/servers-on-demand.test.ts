/**
 * How a test file gets its servers: `await needs(…)` asks the run's on-demand server, which starts
 * each server once however many files ask, passes a start's failure to the file that asked, and
 * outside `npm test` a missing server fails with the command that starts it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { down, up } from '../infra/infra.js';
import { requestServers, serveOnDemand, ON_DEMAND_SOCKET } from '../infra/on-demand.js';
import { readState } from '../infra/state.js';

const run = promisify(execFile);

describe('servers on demand', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tw-on-demand-test-'));
  const socket = join(stateDir, 'servers.sock');
  after(async () => {
    await down(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts a server once for every file that asks, and gives each the same env', async () => {
    // This run's own FerretDB, not one a MONGODB_URI in the environment would point at.
    delete process.env.MONGODB_URI;
    const onDemand = await serveOnDemand(socket, (wanted) => up(stateDir, wanted));
    try {
      const [first, second] = await Promise.all([requestServers(socket, ['mongo']), requestServers(socket, ['mongo'])]);
      assert.ok(first.MONGODB_URI, JSON.stringify(first));
      assert.deepEqual(second, first);
      assert.deepEqual(
        readState(stateDir).map((started) => started.component),
        ['mongo'],
      );
      const client = new MongoClient(first.MONGODB_URI);
      try {
        assert.deepEqual(await client.db('admin').command({ ping: 1 }), { ok: 1 });
      } finally {
        await client.close();
      }
    } finally {
      onDemand.close();
    }
  });

  it("fails the file that asked with the start's own error, and serves the next ask", async () => {
    // A server that cannot be built is a fault no running server can produce, so the first start fails by hand.
    let calls = 0;
    const failingSocket = join(stateDir, 'failing.sock');
    const onDemand = await serveOnDemand(failingSocket, async (wanted) => {
      calls += 1;
      if (calls === 1) throw new Error('Go 1.26+ is required to build the test servers');
      return up(stateDir, wanted);
    });
    try {
      await assert.rejects(requestServers(failingSocket, ['helm']), /could not start helm: Go 1\.26\+ is required/);
      assert.ok((await requestServers(failingSocket, ['helm'])).HELM_BIN);
    } finally {
      onDemand.close();
    }
  });
});

describe('needs() outside npm test', () => {
  const { [ON_DEMAND_SOCKET]: _socket, KUBECONFIG: _kubeconfig, KUBECTL: _kubectl, MONGODB_URI: _mongo, ...bareEnv } = process.env;
  const script = (code: string, env = bareEnv) => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env });

  it('fails with the command that starts the missing server', async () => {
    await assert.rejects(script("import { needs } from './test/helpers/servers.ts'; await needs('kube');"), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /this file needs kube/);
      assert.ok(error.stderr.includes('eval "$(npm run -s infra -- up kube)"'), error.stderr);
      return true;
    });
  });

  it('takes servers started by hand from the environment', async () => {
    const { stdout } = await script("import { needs, mongoFromEnv } from './test/helpers/servers.ts'; await needs('mongo'); console.log(mongoFromEnv().uri);", {
      ...bareEnv,
      MONGODB_URI: 'mongodb://127.0.0.1:1/',
    });
    assert.equal(stdout.trim(), 'mongodb://127.0.0.1:1/');
  });

  it('tells a file that uses a server without declaring it to declare it', async () => {
    await assert.rejects(script("import { mongoFromEnv } from './test/helpers/servers.ts'; mongoFromEnv();"), (error: { stderr: string }) => {
      assert.ok(error.stderr.includes("MONGODB_URI is not set: declare the server at the top of the test file with `await needs('mongo')`"), error.stderr);
      return true;
    });
  });
});
