/**
 * The service process's life: SIGTERM drains (unready but serving for the drain delay, with every
 * response closing its connection; then in-flight requests answered and stored, new connections
 * refused, exit code 0), and a database that is down at start-up leaves the service
 * up but unready until the database comes, without a restart.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startService, type RunningService } from '../helpers/service.js';
import { DedicatedFerretdb } from '../helpers/ferretdb.js';
import { assertError, deliver, genericAlert, getAnonymous, getJson, waitFor } from '../helpers/api-client.js';
import { signedHeaders } from '../helpers/sign.js';
import { deliverKeptAlive, keptAliveAgent } from '../helpers/kept-alive.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const services: RunningService[] = [];
const databases: DedicatedFerretdb[] = [];
after(async () => {
  for (const service of services) await service.kill9();
  for (const db of databases) await db.stop();
});

async function start(env: Record<string, string> = {}, dataDir?: string): Promise<RunningService> {
  const service = await startService({ config: CONFIG, env, dataDir });
  services.push(service);
  return service;
}

/** A request whose headers and first half of the body are sent; `finish()` sends the rest and reads the answer. */
async function halfSent(url: string, alertId: string): Promise<{ finish(): Promise<{ status: number; body: any }> }> {
  const { port } = new URL(url);
  const body = genericAlert(alertId);
  const headers = Object.entries({ ...signedHeaders('edr-secret', body), 'content-length': String(Buffer.byteLength(body)), connection: 'close', host: 'x' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const socket: Socket = await new Promise((connected, fail) => {
    const s = connect(Number(port), '127.0.0.1', () => connected(s));
    s.once('error', fail);
  });
  let answer = '';
  socket.on('data', (chunk) => (answer += String(chunk)));
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  const half = Math.floor(body.length / 2);
  socket.write(`POST /api/webhooks/edr HTTP/1.1\r\n${headers}\r\n${body.slice(0, half)}`);
  return {
    async finish() {
      // Not end(): node's server drops a request whose sender half-closes before the answer.
      // `connection: close` has the service close the socket once it answered.
      socket.write(body.slice(half));
      await closed;
      const [head = '', text = ''] = answer.split('\r\n\r\n');
      return { status: Number(head.split(' ')[1]), body: text ? JSON.parse(text) : undefined };
    },
  };
}

function refused(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((done) => {
    const socket = connect(Number(port), '127.0.0.1', () => (socket.destroy(), done(false)));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
}

describe('SIGTERM', () => {
  it('refuses new connections, answers the requests in flight, stores them and exits 0', async () => {
    const service = await start();
    // Arrived before the signal, their bodies still coming.
    const inFlight = await Promise.all(['drain-1', 'drain-2', 'drain-3'].map((alertId) => halfSent(service.url, alertId)));
    // A later request answered on another connection: the service has read the earlier headers
    // by then, so the three are requests in progress, not idle connections a close would drop.
    assert.equal((await getAnonymous(service.url, '/healthz')).status, 200);

    service.process.kill('SIGTERM');
    await service.logged((entry) => entry.msg === 'shutting down', 'the start of the shutdown');
    assert.equal(await refused(service.url), true, 'a new connection is refused once draining');
    assert.equal(service.process.exitCode, null, 'still running while requests are in flight');

    const answers = await Promise.all(inFlight.map((request) => request.finish()));
    for (const answer of answers) assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.deepEqual(await service.exited, { code: 0, signal: null });

    // What was acknowledged is stored: a restart on the same data finds every incident.
    const again = await start({}, service.dataDir);
    for (const answer of answers) {
      const incident = await getJson(again.url, `/api/incidents/${answer.body.incident_id}`);
      assert.equal(incident.status, 200);
      assert.equal(incident.body.incident_number, answer.body.incident_number);
    }
  });
});

describe('SIGTERM with a drain delay', () => {
  it('fails /readyz at once, keeps serving with Connection: close for the delay, then refuses and exits 0', async () => {
    const service = await start({ TW_DRAIN_DELAY_SECONDS: '3' });
    const agent = keptAliveAgent();
    const before = await deliverKeptAlive(service.url, agent, 'edr', 'edr-secret', 'before-drain');
    assert.equal(before.status, 201);
    assert.equal(before.closes, false, 'kept alive before the drain');

    const signalled = Date.now();
    service.process.kill('SIGTERM');
    await service.logged((entry) => entry.msg === 'draining: not ready, still serving', 'the drain');
    const unready = await getAnonymous(service.url, '/readyz');
    assert.equal(unready.status, 503);
    assert.deepEqual(unready.body, { status: 'not_ready', checks: { sources: true, store: true }, draining: true });

    // The kept-alive connection is still served, and told to close: the next request reconnects.
    const onKeptAlive = await deliverKeptAlive(service.url, agent, 'edr', 'edr-secret', 'kept-alive-in-drain');
    assert.equal(onKeptAlive.reused, true, 'sent on the connection opened before the signal');
    assert.equal(onKeptAlive.status, 201);
    assert.equal(onKeptAlive.closes, true, 'Connection: close during the drain');
    const onNew = await deliverKeptAlive(service.url, agent, 'edr', 'edr-secret', 'new-in-drain');
    assert.equal(onNew.reused, false);
    assert.equal(onNew.status, 201, 'a new connection is still accepted during the delay');
    assert.equal(onNew.closes, true);
    assert.ok(Date.now() - signalled < 3_000, 'all of it within the delay');

    await waitFor(() => refused(service.url), { timeoutMs: 10_000, message: 'the listener to close after the delay' });
    assert.ok(Date.now() - signalled >= 3_000, `closed after the delay, not before (${Date.now() - signalled} ms)`);
    assert.deepEqual(await service.exited, { code: 0, signal: null });
    agent.destroy();

    const again = await start({}, service.dataDir);
    for (const answer of [before, onKeptAlive, onNew]) {
      assert.equal((await getJson(again.url, `/api/incidents/${answer.body.incident_id}`)).body.incident_number, answer.body.incident_number);
    }
  });
});

describe('database down at start-up (MongoDB store)', () => {
  it('starts unready, answers 503, and becomes ready when the database comes up', async () => {
    const db = await DedicatedFerretdb.reserve();
    databases.push(db);
    const service = await start({ MONGODB_URI: db.uri('tw_late') });

    const unready = await getAnonymous(service.url, '/readyz');
    assert.equal(unready.status, 503);
    // Sources registered through the API live in the store too, so they cannot be loaded either.
    assert.deepEqual(unready.body, {
      status: 'not_ready',
      checks: { sources: false, store: false },
      store_error: 'MongoDB store is not ready yet (indexes not created)',
    });
    assert.equal((await getAnonymous(service.url, '/healthz')).status, 200);
    const early = await deliver(service.url, 'edr', 'edr-secret', genericAlert('late-1'));
    assertError(early, 503, 'unavailable');
    assert.ok(Number(early.headers.get('retry-after')) > 0);

    await db.restart();
    await waitFor(async () => (await getAnonymous(service.url, '/readyz')).status === 200, {
      timeoutMs: 60_000,
      message: '/readyz after the database came up',
    });
    const stored = await deliver(service.url, 'edr', 'edr-secret', genericAlert('late-1'));
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.equal((await getJson(service.url, `/api/incidents/${stored.body.incident_id}`)).status, 200);
  });
});
