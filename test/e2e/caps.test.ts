/**
 * Every resource a client can hold has a cap, driven over real HTTP against the real service
 * process (embedded store), with the process's resident memory read from /proc: log streams per
 * key and in all, readers that do not read, idle streams, connections, body bytes in flight, and
 * a refused body's answer reaching a sender that is still uploading.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startService, type RunningService } from '../helpers/service.js';
import { assertError, getJson, metricsText, post, sample, TEST_TOKEN, waitFor, type Reply } from '../helpers/api-client.js';
import { twCli } from '../helpers/cli.js';
import { memoryOf } from '../helpers/process-memory.js';

const MIB = 1024 * 1024;
const CONFIG = `
sources:
  edr:
    secret: "edr-secret-0123456789"
  big:
    secret: "big-secret-0123456789"
    max_body_bytes: ${10 * MIB}
`;

const auth = (token = TEST_TOKEN) => ({ authorization: `Bearer ${token}` });

/** Opens `GET /api/logs?follow=true` and resolves with the response once its head arrived (the stream stays open). */
function openFollow(url: string, token: string, agent: Agent): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/logs?follow=true&tail=1`, { headers: auth(token), agent }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function bodyOf(response: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return JSON.parse(text);
}

/** Sends `total` bytes (chunked unless `declare`) and resolves with the answer, or with the error the sender met. */
function upload(url: string, path: string, total: number, declare: boolean): Promise<Reply | Error> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = declare ? { 'content-length': String(total) } : { 'transfer-encoding': 'chunked' };
    const req = request(`${url}${path}`, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), body: JSON.parse(text) }));
      res.on('error', resolve);
    });
    req.on('error', resolve);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('log streams', () => {
  let service: RunningService;
  before(async () => {
    service = await startService({
      config: CONFIG,
      env: { TW_FOLLOW_STREAMS_PER_KEY: '4', TW_FOLLOW_STREAMS_MAX: '16', TW_FOLLOW_BACKLOG_BYTES: String(64 * 1024) },
    });
  });
  after(() => service?.stop());

  it('takes 4 of 300 follow attempts from one key and refuses the rest in the envelope, at a flat RSS', async (t) => {
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const before = memoryOf(service.process.pid!);
    const responses = await Promise.all(Array.from({ length: 300 }, () => openFollow(service.url, TEST_TOKEN, agent)));
    const streams = responses.filter((response) => response.statusCode === 200);
    const refused = responses.filter((response) => response.statusCode !== 200);
    assert.equal(streams.length, 4);
    for (const stream of streams) assert.equal(stream.headers['content-type'], 'text/event-stream');
    assert.equal(refused.length, 296);
    for (const response of refused) {
      assert.equal(response.statusCode, 429);
      assert.equal(response.headers['retry-after'], '5');
      const body = await bodyOf(response);
      assert.equal(body.error.code, 'rate_limited');
      assert.match(body.error.message, /already holds 4 log streams/);
    }
    const during = memoryOf(service.process.pid!);
    t.diagnostic(`RSS before ${before.rssMiB} MiB, with 4 streams open after 300 attempts ${during.rssMiB} MiB (peak ${during.peakMiB} MiB)`);
    assert.ok(during.rssMiB - before.rssMiB < 64, `RSS grew by ${during.rssMiB - before.rssMiB} MiB`);

    // The process's cap: 16 streams in all, whatever the keys.
    const keys: string[] = [];
    for (let index = 0; index < 4; index++) {
      const created = await post(service.url, '/api/apikeys', JSON.stringify({ name: `reader-${index}`, scopes: ['logs:read'] }), auth());
      keys.push(created.body.token as string);
    }
    const more = await Promise.all(keys.flatMap((key) => Array.from({ length: 4 }, () => openFollow(service.url, key, agent))));
    assert.equal(more.filter((response) => response.statusCode === 200).length, 12);
    const full = more.filter((response) => response.statusCode !== 200);
    assert.equal(full.length, 4);
    for (const response of full) {
      assert.equal(response.statusCode, 503);
      assert.equal((await bodyOf(response)).error.code, 'unavailable');
    }
    const metrics = await metricsText(service.url);
    assert.equal(sample(metrics, 'tw_follow_streams'), 16);
    assert.equal(sample(metrics, 'tw_load_shed_total', { reason: 'follow_per_key' }), 296);
    assert.equal(sample(metrics, 'tw_load_shed_total', { reason: 'follow_total' }), 4);

    // Closed streams give their slots back.
    for (const response of [...streams, ...more]) response.destroy();
    agent.destroy();
    await waitFor(async () => sample(await metricsText(service.url), 'tw_follow_streams') === 0, { message: 'the streams to be released' });
    const again = await openFollow(service.url, TEST_TOKEN, new Agent());
    assert.equal(again.statusCode, 200);
    again.destroy();
  });

  it('drops a reader that does not read once its backlog passes TW_FOLLOW_BACKLOG_BYTES', async (t) => {
    const shedBefore = sample(await metricsText(service.url), 'tw_load_shed_total', { reason: 'follow_slow_reader' }) ?? 0;
    const port = Number(new URL(service.url).port);
    // A reader that never reads: the socket is paused from the start.
    const reader: Socket = connect(port, '127.0.0.1');
    reader.pause();
    reader.write(`GET /api/logs?follow=true&tail=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    await waitFor(async () => (sample(await metricsText(service.url), 'tw_follow_streams') ?? 0) >= 1, { message: 'the stream to open' });
    // Each refused delivery is a record on every stream; 404s are the cheapest to make.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    let sent = 0;
    const before = memoryOf(service.process.pid!);
    await waitFor(
      async () => {
        await Promise.all(
          Array.from({ length: 400 }, () => fetchNoBody(service.url, `/api/webhooks/not-a-source-${'x'.repeat(200)}`, agent).then(() => sent++)),
        );
        return (sample(await metricsText(service.url), 'tw_load_shed_total', { reason: 'follow_slow_reader' }) ?? 0) > shedBefore;
      },
      { message: 'the slow reader to be dropped', timeoutMs: 120_000, intervalMs: 0 },
    );
    agent.destroy();
    reader.destroy();
    const after = memoryOf(service.process.pid!);
    t.diagnostic(`dropped after ${sent} deliveries; RSS ${before.rssMiB} → ${after.rssMiB} MiB`);
    assert.equal(sample(await metricsText(service.url), 'tw_follow_streams'), 0);
  });

  it('ends a stream with nothing to send after TW_FOLLOW_IDLE_SECONDS, and tw-cli says so and exits 0', async () => {
    const idle = await startService({ config: CONFIG, env: { TW_FOLLOW_IDLE_SECONDS: '3' } });
    const started = Date.now();
    const followed = await twCli(['logs', '--follow', '--tail', '1'], { TW_API_URL: idle.url, TW_API_TOKEN: TEST_TOKEN }).finally(() => idle.stop());
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stderr, /^warning: the log stream was idle for 3 s and the API ended it; run the command again to keep following$/m);
    assert.ok(Date.now() - started >= 2_900, `ended after ${Date.now() - started} ms`);
  });
});

function fetchNoBody(url: string, path: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', agent, headers: { 'content-length': '2' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('bodies and connections', () => {
  let service: RunningService;
  before(async () => {
    service = await startService({ config: CONFIG, env: { TW_MAX_CONNECTIONS: '40' } });
  });
  after(() => service?.stop());

  it('lets 8 senders uploading 20 MB each into a 1 MiB limit read their 413 (chunked or declared), instead of a reset', async (t) => {
    const before = memoryOf(service.process.pid!);
    const replies = await Promise.all(Array.from({ length: 8 }, (_, index) => upload(service.url, '/api/webhooks/edr', 20 * MIB, index % 2 === 0)));
    for (const reply of replies) {
      assert.ok(!(reply instanceof Error), `a sender met ${reply instanceof Error ? reply.message : 'an answer'} instead of the answer`);
      assertError(reply, 413, 'payload_too_large');
      assert.equal(reply.headers.get('connection'), 'close');
    }
    const after = memoryOf(service.process.pid!);
    t.diagnostic(`8 × 20 MB uploads at once, all answered 413: RSS ${before.rssMiB} MiB → ${after.rssMiB} MiB, peak ${after.peakMiB} MiB`);
    // Kept, the 160 MB would be in memory at once; read and thrown away, what remains is garbage not yet collected.
    assert.ok(after.peakMiB - before.rssMiB < 120, `the peak grew by ${after.peakMiB - before.rssMiB} MiB`);
  });

  it('caps connections per listener: past TW_MAX_CONNECTIONS a new one is closed at once; closing frees the room', async () => {
    const port = Number(new URL(service.url).port);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    // 41 at once: whatever else is open (a kept-alive client of an earlier test), past 40 they are closed.
    const sockets = await Promise.all(Array.from({ length: 41 }, open));
    const closed = new Set<Socket>();
    for (const socket of sockets) {
      socket.on('close', () => closed.add(socket));
      socket.on('error', () => undefined);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await waitFor(() => closed.size >= 1, { message: 'a connection past the cap to be closed' });
    const served = sockets.filter((socket) => !closed.has(socket));
    assert.ok(served.length <= 40, `${served.length} connections held`);
    const held = sockets;
    for (const socket of held) socket.destroy();
    await waitFor(async () => (await getJson(service.url, '/healthz')).status === 200, { message: 'connections to be taken again' });
    assert.ok((sample(await metricsText(service.url), 'tw_load_shed_total', { reason: 'connections' }) ?? 0) >= 1);
  });
});

describe('body bytes in flight', () => {
  /**
   * 48 senders of 8 MiB bodies at a 10 MiB source, all mid-body at once: each writes all but the
   * last byte, and only when every one has done so do they finish. How many were shed, and the
   * process's peak memory growth.
   */
  async function flood(service: RunningService) {
    const body = Buffer.alloc(8 * MIB, 'y');
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const before = memoryOf(service.process.pid!);
    let written = 0;
    let allWritten: () => void;
    const everyoneMidBody = new Promise<void>((resolve) => (allWritten = resolve));
    const replies = await Promise.all(
      Array.from(
        { length: 48 },
        () =>
          new Promise<{ status: number; code: string; retryAfter: string | undefined }>((resolve) => {
            const req = request(`${service.url}/api/webhooks/big`, { method: 'POST', agent, headers: { 'content-length': String(body.length) } }, (res) => {
              let text = '';
              res.on('data', (chunk) => (text += String(chunk)));
              res.on('end', () => resolve({ status: res.statusCode!, code: JSON.parse(text).error.code, retryAfter: res.headers['retry-after'] }));
              res.on('error', () => resolve({ status: 0, code: 'closed', retryAfter: undefined }));
            });
            // A body refused for room is not read: the connection closes under the sender, which retries as after a 503.
            req.on('error', () => resolve({ status: 0, code: 'closed', retryAfter: undefined }));
            req.write(body.subarray(0, -1), () => {
              if (++written === 48) allWritten();
            });
            void everyoneMidBody.then(() => req.end(body.subarray(-1)));
          }),
      ),
    );
    agent.destroy();
    const after = memoryOf(service.process.pid!);
    return { replies, rssBefore: before.rssMiB, peakGrowth: after.peakMiB - before.rssMiB, peak: after.peakMiB };
  }

  it('answers 503 + Retry-After past TW_MAX_BODY_BYTES_IN_FLIGHT instead of buffering every body; without the cap every body is held at once', async (t) => {
    const capped = await startService({ config: CONFIG, env: { TW_MAX_BODY_BYTES_IN_FLIGHT: String(32 * MIB) } });
    let withCap;
    let counted;
    try {
      withCap = await flood(capped);
      counted = sample(await metricsText(capped.url), 'tw_load_shed_total', { reason: 'body_bytes_in_flight' });
    } finally {
      await capped.stop();
    }
    const shed = withCap.replies.filter((reply) => reply.status === 503 || reply.status === 0);
    assert.ok(shed.length > 0, 'some bodies were refused');
    for (const reply of shed.filter((reply) => reply.status === 503)) {
      assert.equal(reply.code, 'unavailable');
      assert.equal(reply.retryAfter, '1');
    }
    for (const reply of withCap.replies.filter((reply) => !shed.includes(reply))) assert.equal(reply.code, 'invalid_timestamp', 'read and verified');
    assert.equal(counted, shed.length, 'every refusal counted');

    const uncapped = await startService({ config: CONFIG, env: { TW_MAX_BODY_BYTES_IN_FLIGHT: String(16 * 1024 * MIB) } });
    let without;
    try {
      without = await flood(uncapped);
    } finally {
      await uncapped.stop();
    }
    t.diagnostic(
      `48 × 8 MiB at once: cap 32 MiB → ${shed.length} shed (503 or closed unread), RSS ${withCap.rssBefore} MiB, peak +${withCap.peakGrowth} MiB; ` +
        `no cap → ${without.replies.filter((reply) => reply.status === 503).length} shed, RSS ${without.rssBefore} MiB, peak +${without.peakGrowth} MiB`,
    );
    assert.ok(withCap.peakGrowth < 200, `peak grew by ${withCap.peakGrowth} MiB under a 32 MiB cap`);
    assert.ok(without.peakGrowth > 2 * withCap.peakGrowth, 'without the cap the bodies are held at once');
  });
});
