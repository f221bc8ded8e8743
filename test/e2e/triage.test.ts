/**
 * The auto-triage outbox against a real local playbook runner (node:http): every request arrives,
 * signed with our HMAC scheme and carrying the incident id as idempotency key, even when the runner
 * fails its first attempts or is down when the incident is created.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startService, type RunningService } from '../helpers/service.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { allIncidents, deliver, genericAlert, getAnonymous, getJson, waitFor } from '../helpers/api-client.js';
import { hmacSignature } from '../helpers/sign.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const RUNNER_SECRET = 'runner-secret';
const CONFIG = `
sources:
  email-gateway:
    secret: "gw-secret"
    auto_triage: true
    playbook: phishing_triage
`;

interface RunnerCall {
  idempotencyKey: string;
  webhookId: string;
  attempt: number;
  signatureValid: boolean;
  body: any;
  answered: number;
}

/** How the runner answers the n-th call for one request: a status, or 'hang' (never answers). */
type Answer = (call: number) => number | 'hang';
const failFirst =
  (failures: number): Answer =>
  (call) =>
    call <= failures ? 503 : 200;

/** A playbook runner that answers each request's calls as `answer` says. */
async function startRunner(answer: Answer, port = 0): Promise<{ server: Server; url: string; calls: RunnerCall[] }> {
  const calls: RunnerCall[] = [];
  const seen = new Map<string, number>();
  const record = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const key = String(request.headers['idempotency-key']);
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    const timestamp = String(request.headers['x-webhook-timestamp']);
    const answered = answer(count);
    calls.push({
      idempotencyKey: key,
      webhookId: String(request.headers['webhook-id']),
      attempt: Number(request.headers['x-triage-attempt']),
      signatureValid: request.headers['x-webhook-signature'] === `sha256=${hmacSignature(RUNNER_SECRET, timestamp, raw)}`,
      body: JSON.parse(raw),
      answered: answered === 'hang' ? 0 : answered,
    });
    if (answered !== 'hang') response.writeHead(answered, { 'content-type': 'application/json' }).end('{}');
  };
  // A request the runner cannot read (a body that is not JSON) is answered 500, so the test sees it as a failed delivery.
  const server = createServer((request, response) => void record(request, response).catch((error: unknown) => response.writeHead(500).end(String(error))));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  runners.push(server);
  hangingRunners.push(() => server.closeAllConnections());
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/triage`, calls };
}

const runners: Server[] = [];
const hangingRunners: (() => void)[] = [];
const services: RunningService[] = [];
after(async () => {
  await Promise.all(services.map((service) => service.kill9()));
  for (const close of hangingRunners) close();
  for (const runner of runners) runner.close();
});

async function startTriageService(env: Record<string, string>): Promise<RunningService> {
  const service = await startService({
    config: CONFIG,
    env: { MONGODB_URI: freshMongoUri('tw_triage'), TW_TRIAGE_SECRET: RUNNER_SECRET, TW_TRIAGE_RETRY_BASE_MS: '50', TW_TRIAGE_POLL_MS: '50', ...env },
  });
  services.push(service);
  return service;
}

async function createIncidents(service: RunningService, count: number): Promise<string[]> {
  const replies = await Promise.all(Array.from({ length: count }, () => deliver(service.url, 'email-gateway', 'gw-secret', genericAlert(randomUUID()))));
  return replies.map((reply) => {
    assert.equal(reply.status, 201);
    return reply.body.incident_id as string;
  });
}

describe('auto-triage outbox (MongoDB store)', () => {
  it('a runner failing its first two attempts still receives every request, signed, with a stable idempotency key', async () => {
    const runner = await startRunner(failFirst(2));
    const service = await startTriageService({ TW_TRIAGE_URL: runner.url });
    const ids = await createIncidents(service, 10);
    await waitFor('every request to be dispatched', async () => {
      const dispatched = (await getJson(service.url, '/api/triage/requests?state=dispatched&limit=100')).body.items;
      return dispatched.length === ids.length ? dispatched : undefined;
    });
    for (const id of ids) {
      const calls = runner.calls.filter((call) => call.idempotencyKey === id);
      assert.deepEqual(
        calls.map((call) => [call.attempt, call.answered]),
        [
          [1, 503],
          [2, 503],
          [3, 200],
        ],
      );
      for (const call of calls) {
        assert.ok(call.signatureValid, 'signed with TW_TRIAGE_SECRET over <ts>.<body>');
        assert.equal(call.webhookId, id);
        assert.equal(call.body.request_id, id);
        assert.equal(call.body.playbook, 'phishing_triage');
        assert.equal(call.body.incident.incident_id, id);
      }
      const incident = (await getJson(service.url, `/api/incidents/${id}`)).body;
      assert.equal(incident.triage.state, 'dispatched');
      assert.equal(incident.triage.attempts, 3);
      assert.ok(incident.triage.dispatched_at);
    }
  });

  it('requests wait while the runner is down and are delivered once it is up', async () => {
    const placeholder = await startRunner(failFirst(0));
    const { port } = placeholder.server.address() as AddressInfo;
    await new Promise((resolve) => placeholder.server.close(resolve));
    const service = await startTriageService({ TW_TRIAGE_URL: `http://127.0.0.1:${port}/triage` });
    const ids = await createIncidents(service, 5);
    await waitFor('a failed attempt to be recorded', async () => {
      const pending = (await getJson(service.url, '/api/triage/requests')).body.items;
      return pending.length === 5 && pending.every((item: any) => item.attempts >= 1 && /unreachable/.test(item.last_error)) ? true : undefined;
    });
    const runner = await startRunner(failFirst(0), port);
    await waitFor(
      'delivery after the runner came back',
      async () => (new Set(runner.calls.map((call) => call.idempotencyKey)).size === 5 ? true : undefined),
      30_000,
    );
    assert.deepEqual(new Set(runner.calls.map((call) => call.idempotencyKey)), new Set(ids));
  });

  it('without TW_TRIAGE_URL requests stay pending and are listable', async () => {
    const service = await startTriageService({});
    const ids = await createIncidents(service, 3);
    assert.equal((await getAnonymous(service.url, '/api/triage/requests')).status, 401);
    const pending = (await getJson(service.url, '/api/triage/requests?state=pending')).body.items;
    assert.deepEqual(new Set(pending.map((item: any) => item.incident_id)), new Set(ids));
    assert.ok(pending.every((item: any) => item.playbook === 'phishing_triage' && item.attempts === 0));
    assert.equal((await allIncidents(service.url)).filter((incident) => incident.triage.state === 'pending').length, 3);
  });

  /** Waits until every incident's request has ended `failed`, and returns them by incident id. */
  async function failedRequests(service: RunningService, ids: string[]): Promise<Map<string, any>> {
    const failed = await waitFor(
      async () => {
        const items = (await getJson(service.url, '/api/triage/requests?state=failed&limit=100')).body.items as any[];
        return items.length === ids.length ? items : undefined;
      },
      { timeoutMs: 30_000, message: `${ids.length} failed triage requests` },
    );
    assert.deepEqual(new Set(failed.map((item) => item.incident_id)), new Set(ids));
    return new Map(failed.map((item) => [item.incident_id as string, item]));
  }

  it('a 4xx other than 408/409/425/429 fails the request at once, without retries', async () => {
    const runner = await startRunner(() => 422);
    const service = await startTriageService({ TW_TRIAGE_URL: runner.url, TW_TRIAGE_MAX_ATTEMPTS: '5' });
    const ids = await createIncidents(service, 3);
    const failed = await failedRequests(service, ids);
    for (const id of ids) {
      assert.equal(failed.get(id).attempts, 1);
      assert.equal(failed.get(id).last_error, 'runner answered 422');
      assert.equal(runner.calls.filter((call) => call.idempotencyKey === id).length, 1);
      const incident = (await getJson(service.url, `/api/incidents/${id}`)).body;
      assert.equal(incident.triage.state, 'failed');
      assert.equal(incident.triage.dispatched_at, null);
    }
  });

  it('a request still failing after TW_TRIAGE_MAX_ATTEMPTS ends failed with the last error', async () => {
    const runner = await startRunner(() => 503);
    const service = await startTriageService({ TW_TRIAGE_URL: runner.url, TW_TRIAGE_MAX_ATTEMPTS: '3' });
    const ids = await createIncidents(service, 2);
    const failed = await failedRequests(service, ids);
    for (const id of ids) {
      assert.equal(failed.get(id).attempts, 3);
      assert.equal(failed.get(id).last_error, 'runner answered 503');
      assert.deepEqual(
        runner.calls.filter((call) => call.idempotencyKey === id).map((call) => call.attempt),
        [1, 2, 3],
      );
    }
    assert.equal((await getJson(service.url, '/api/triage/requests?state=pending')).body.items.length, 0);
  });

  it('a runner that does not answer within TW_TRIAGE_TIMEOUT_MS counts as a failed attempt', async () => {
    const runner = await startRunner(() => 'hang');
    const service = await startTriageService({ TW_TRIAGE_URL: runner.url, TW_TRIAGE_TIMEOUT_MS: '300', TW_TRIAGE_MAX_ATTEMPTS: '2' });
    const ids = await createIncidents(service, 1);
    const failed = await failedRequests(service, ids);
    const request = failed.get(ids[0]!);
    assert.equal(request.attempts, 2);
    assert.match(request.last_error, /unreachable: .*(timeout|aborted)/i);
    assert.equal(runner.calls.length, 2, 'each attempt reached the runner and was given up on');
  });
});
