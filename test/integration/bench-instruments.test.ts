/**
 * The bench is not run by `npm test`, but its instruments are checked here, briefly: each target
 * starts and answers, the durable ceiling stores exactly what it acknowledges, the open-loop
 * loader charges a stall to the requests queued behind it, and the wire counter names the
 * MongoDB commands it forwards.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { openLoop, signedAlerts } from '../bench/load.js';
import { startNodeTarget } from '../bench/processes.js';
import { startWireCounter } from '../bench/wire-counter.js';
import { mongoFromEnv } from '../helpers/servers.js';
import { signedHeaders } from '../helpers/sign.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const SECRET = 'bench-secret';
const bench = resolve(import.meta.dirname, '../bench');

async function post(port: number, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/api/webhooks/edr`, { method: 'POST', body, headers });
  await response.arrayBuffer();
  return response.status;
}

/** The durable ceiling's file: 4-byte big-endian lengths, each followed by a body. */
function storedBodies(file: string): string[] {
  const data = readFileSync(file);
  const bodies: string[] = [];
  for (let offset = 0; offset < data.length;) {
    const length = data.readUInt32BE(offset);
    bodies.push(data.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return bodies;
}

describe('the bench targets', () => {
  it('the durable ceiling stores every body it acknowledges, and refuses a bad signature', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tw-bench-test-'));
    const target = await startNodeTarget('durable ceiling', ['--import', 'tsx', join(bench, 'durable-ceiling-server.ts')], {
      BENCH_SECRET: SECRET,
      BENCH_DATA_DIR: dataDir,
    });
    try {
      const sent: string[] = [];
      const alerts = signedAlerts(1_024, () => ({ source: 'edr', secret: SECRET }));
      const result = await openLoop(target.port, 300, 1, () => {
        const request = alerts();
        sent.push(request.body);
        return request;
      });
      assert.equal(result.ok, 300, JSON.stringify(result));
      const unsigned = JSON.stringify({ unsigned: true });
      assert.equal(await post(target.port, unsigned, signedHeaders('another-secret', unsigned)), 401);
      await target.stop();

      const stored = storedBodies(join(dataDir, 'durable-ceiling.log'));
      assert.equal(stored.length, 300);
      assert.deepEqual(new Set(stored), new Set(sent));
    } finally {
      await target.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  for (const [name, file] of [
    ['node:http ceiling', 'ceiling-server.ts'],
    ['minimal Koa app', 'minimal-koa-server.ts'],
  ] as const) {
    it(`the ${name} answers 201 to a signed alert and 401 to a bad signature`, async () => {
      const target = await startNodeTarget(name, ['--import', 'tsx', join(bench, file)], { BENCH_SECRET: SECRET });
      try {
        const body = JSON.stringify({ alert: 1 });
        assert.equal(await post(target.port, body, signedHeaders(SECRET, body)), 201);
        assert.equal(await post(target.port, body, signedHeaders('another-secret', body)), 401);
      } finally {
        await target.stop();
      }
    });
  }

  it('the service starts as the bench starts it and acknowledges signed alerts at a fixed rate', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tw-bench-test-'));
    const configPath = join(dataDir, 'webhook_config.yaml');
    writeFileSync(configPath, `sources:\n  edr:\n    secret: "${SECRET}"\n`);
    const target = await startNodeTarget('tw-webhooks', [resolve(import.meta.dirname, '../../dist/main.js')], {
      PORT: '0',
      HOST: '127.0.0.1',
      TW_CONFIG: configPath,
      TW_DATA_DIR: join(dataDir, 'data'),
    });
    try {
      const result = await openLoop(
        target.port,
        100,
        1,
        signedAlerts(1_024, () => ({ source: 'edr', secret: SECRET })),
      );
      assert.equal(result.ok, 100, JSON.stringify(result));
    } finally {
      await target.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the open-loop loader', () => {
  it('measures from the scheduled send time, so requests queued behind a stall are charged for it', async () => {
    let stalled = false;
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        // The first request is held 300 ms; every later one is answered at once.
        const delay = stalled ? 0 : 300;
        stalled = true;
        setTimeout(() => res.writeHead(201).end(), delay);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const port = (server.address() as AddressInfo).port;
      // One connection: what was scheduled during the stall waits for it, as a real sender's queue would.
      const result = await openLoop(port, 100, 1, () => ({ path: '/', headers: {}, body: '{}' }), 1);
      assert.equal(result.ok, 100);
      assert.ok(result.max >= 280, `max ${result.max} ms`);
      // About 30 of the 100 requests were due during the stall: far more than 1 % are late.
      assert.ok(result.p90 >= 100 || result.p99 >= 200, `p90 ${result.p90} ms, p99 ${result.p99} ms`);
    } finally {
      server.close();
    }
  });
});

describe('the wire counter', () => {
  it('forwards a MongoDB client’s traffic and counts its commands by collection', async () => {
    const { uri, database } = mongoFromEnv('tw_bench_wire');
    const upstream = new URL(uri);
    const counter = await startWireCounter(upstream.hostname, Number(upstream.port));
    const client = new MongoClient(`mongodb://127.0.0.1:${counter.port}/`);
    try {
      const collection = client.db(database).collection<{ _id: string; n: number }>('things');
      await collection.insertOne({ _id: 'a', n: 1 });
      counter.reset();
      await collection.insertOne({ _id: 'b', n: 2 });
      assert.equal((await collection.findOne({ _id: 'a' }))?.n, 1);
      const counts = counter.counts();
      assert.equal(counts['insert things'], 1, JSON.stringify(counts));
      assert.equal(counts['find things'], 1, JSON.stringify(counts));
    } finally {
      await client.close();
      await counter.close();
    }
  });
});
