/**
 * The planes apart on MongoDB, over real HTTP against two in-process services (`start()`, ports
 * 0): a receiver (TW_MODE=receiver) with its own listener for senders and PORT for probes and
 * metrics, and a control plane (TW_MODE=control) with the API and the workers but no receiver.
 * Every row of the route table is tried on every listener; deliveries, registrations, queued
 * work and test events cross between the planes through the store.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Service } from '../../src/start.js';
import { createLogger } from '../../src/log/logger.js';
import { ROUTES, servedOn, type Listener, type Mode, type RouteRow } from '../../src/http/routes.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { deliver, genericAlert, getJson, post, request, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const SECRET = 'planes-secret-0123456789';
const CONFIG = `
sources:
  edr:
    secret: "${SECRET}"
  queued:
    secret: "${SECRET}"
    processing: async
`;
const rows = ROUTES as readonly RouteRow[];
const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

describe('the planes apart (MongoDB)', () => {
  let receiver: Service;
  let control: Service;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-planes-'));
    writeFileSync(join(dir, 'webhook_config.yaml'), CONFIG);
    const shared = {
      HOST: '127.0.0.1',
      PORT: '0',
      MONGODB_URI: freshMongoUri('tw_planes'),
      TW_CONFIG: join(dir, 'webhook_config.yaml'),
      TW_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TW_INLINE_BUDGET_MS: '0',
      TW_QUEUE_POLL_MS: '100',
    };
    const logger = createLogger('silent');
    receiver = await start({ env: { ...shared, TW_MODE: 'receiver', TW_RECEIVER_PORT: '0' }, logger });
    control = await start({ env: { ...shared, TW_MODE: 'control', TW_API_TOKEN: TEST_TOKEN }, logger });
  });
  after(async () => {
    await Promise.all([receiver?.stop(), control?.stop()]);
  });

  it('serves every row of the table on exactly the listeners its plane is served on, and nothing else', async (t) => {
    const listeners: [Mode, Listener, string][] = [
      ['receiver', 'main', receiver.url],
      ['receiver', 'receiver', receiver.receiver!.url],
      ['control', 'main', control.url],
    ];
    assert.equal(control.receiver, undefined, 'the control plane has no receiver listener');
    let tried = 0;
    for (const row of rows) {
      const path = row.path.replace(/:(\w+)/g, (_, name: string) => (name === 'source' ? 'edr' : 'none'));
      for (const [mode, listener, url] of listeners) {
        const reply = await request(url, path, { method: row.method, headers: AUTH });
        tried++;
        const where = `${row.method} ${path} on the ${mode} plane's ${listener} listener: ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 200)}`;
        const noRoute = reply.status === 404 && reply.body?.error?.code === 'not_found' && /^No route/.test(reply.body.error.message);
        const otherMethod = reply.status === 405 && reply.body?.error?.code === 'method_not_allowed';
        if (servedOn(row.plane, listener, mode)) assert.ok(!noRoute && !otherMethod, `served: ${where}`);
        else assert.ok(noRoute || otherMethod, `not served: ${where}`);
      }
    }
    t.diagnostic(`${tried} requests: ${rows.length} routes × 3 listeners`);
  });

  it('takes a delivery on the receiver listener only, and the control plane reads it back', async () => {
    const body = genericAlert('planes-1');
    const accepted = await deliver(receiver.receiver!.url, 'edr', SECRET, body);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.equal((await deliver(receiver.url, 'edr', SECRET, body)).status, 404, "the receiver's PORT has no receiver route");
    assert.equal((await deliver(control.url, 'edr', SECRET, body)).status, 405, 'the control plane has none either');
    const incident = await getJson(control.url, `/api/incidents/${accepted.body.incident_id}`);
    assert.equal(incident.status, 200);
    assert.equal(incident.body.incident_number, accepted.body.incident_number);
    const metrics = await request(receiver.url, '/metrics');
    assert.match(String(metrics.body), /webhook_received_total\{source="edr"\} [1-9]/, "the receiver's own metrics, on its PORT");
  });

  it("queues on the receiver and processes with the control plane's worker", async () => {
    const queued = await deliver(receiver.receiver!.url, 'queued', SECRET, genericAlert('planes-queued'));
    assert.equal(queued.status, 202);
    const done = await waitFor(
      async () => {
        const entry = await getJson(control.url, `/api/queue/${queued.body.queue_id}`);
        return entry.body.status === 'done' ? entry.body : undefined;
      },
      { message: 'the control plane to process the queued delivery', timeoutMs: 20_000 },
    );
    assert.match(done.incident_number, /^INC-/);
  });

  it('registers on the control plane and serves on the receiver; test events take the receiver path in memory, even in the control plane', async () => {
    const registered = await post(control.url, '/api/webhooks', JSON.stringify({ source: 'siem', secret: SECRET }), AUTH);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    await waitFor(
      async () => ((await deliver(receiver.receiver!.url, 'siem', SECRET, genericAlert(`planes-siem-${Date.now()}`))).status === 201 ? true : undefined),
      {
        message: 'the receiver to serve the registered source',
        timeoutMs: 15_000,
      },
    );
    const tested = await post(control.url, '/api/webhooks/siem/test', '', AUTH);
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    assert.equal(tested.body.accepted, true);
    assert.equal(tested.body.status, 201);
    const stored = await getJson(control.url, `/api/incidents/${tested.body.response.incident_id}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.event_type, 'test');
  });
});
