/**
 * What hostile senders found, mended and driven over real HTTP (and raw sockets where node's own
 * client would refuse to send the request) against the real service process.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, genericAlert, getJson, post, waitFor } from '../helpers/api-client.js';
import { standardWebhooksHeaders } from '../helpers/sign.js';

const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CONFIG = `
sources:
  edr:
    secret: "edr-secret"
    max_body_bytes: 2048
  async-edr:
    secret: "async-secret"
    processing: async
  stdhooks:
    secret: "${SW_SECRET}"
    verification: standard-webhooks
  async-stdhooks:
    secret: "${SW_SECRET}"
    verification: standard-webhooks
    processing: async
`;

let service: RunningService;
let port: number;

before(async () => {
  service = await startService({ config: CONFIG, env: { TW_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' } });
  port = Number(new URL(service.url).port);
});
after(async () => {
  await service?.stop();
});

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** The server closed the connection after the answer. */
  closed: boolean;
  elapsedMs: number;
}

/**
 * Writes `request` as bytes on a fresh connection and reads one answer. Resolves when the answer's
 * body is complete and either the server closed the socket or `waitCloseMs` passed without it.
 */
function rawRequest(request: string | Buffer, waitCloseMs = 2000): Promise<RawReply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const bodyText = rest.join('\r\n\r\n');
      let body: unknown;
      try {
        body = JSON.parse(bodyText);
      } catch {
        body = bodyText;
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, closed, elapsedMs: Date.now() - started });
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const headEnd = data.indexOf('\r\n\r\n');
      const length = /content-length: *(\d+)/i.exec(data.subarray(0, Math.max(headEnd, 0)).toString())?.[1];
      if (headEnd >= 0 && length !== undefined && data.length >= headEnd + 4 + Number(length) && timer === undefined) {
        timer = setTimeout(() => finish(false), waitCloseMs);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', (error) => (data.length > 0 ? finish(true) : reject(error)));
  });
}

function assertEnvelope(reply: { status: number; body: any }, status: number, code: string): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(reply.body?.error?.code, code, JSON.stringify(reply.body));
  assert.equal(typeof reply.body.error.message, 'string');
  assert.ok(reply.body.error.message.length > 0);
}

describe('dedupe keys are compared whole', () => {
  const prefix = 'k'.repeat(256);

  /** A Standard Webhooks delivery: its `webhook-id` is signed, so it is the event's key. */
  const deliverSigned = (source: string, id: string, body: string) =>
    post(service.url, `/api/webhooks/${source}`, body, standardWebhooksHeaders(SW_SECRET, id, body));

  it('two signed event ids sharing a 256-character prefix stay two incidents', async () => {
    const first = await deliverSigned('stdhooks', `${prefix}-a`, genericAlert('same-1'));
    const second = await deliverSigned('stdhooks', `${prefix}-b`, genericAlert('same-1'));
    assert.equal(first.status, 201);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.notEqual(second.body.incident_id, first.body.incident_id);
    const again = await deliverSigned('stdhooks', `${prefix}-b`, genericAlert('same-1'));
    assert.equal(again.status, 200);
    assert.equal(again.body.incident_id, second.body.incident_id);
    const stored = await getJson(service.url, `/api/incidents/${second.body.incident_id}`);
    assert.match(stored.body.dedupe_key, /^hdr#sha256:[0-9a-f]{64}$/);
  });

  it('two vendor alert ids sharing a 512-character prefix stay two incidents', async () => {
    const longId = 'a'.repeat(600);
    const first = await deliver(service.url, 'edr', 'edr-secret', genericAlert(`${longId}1`));
    const second = await deliver(service.url, 'edr', 'edr-secret', genericAlert(`${longId}2`));
    assert.equal(first.status, 201);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const stored = await getJson(service.url, `/api/incidents/${second.body.incident_id}`);
    assert.equal(stored.body.external_id, `${longId}2`, 'the vendor id is kept whole');
  });

  it('through the queue too: long keys sharing a prefix stay two incidents', async () => {
    const queued = [];
    for (const suffix of ['a', 'b']) {
      const reply = await deliverSigned('async-stdhooks', `${prefix}-${suffix}`, genericAlert('queued-same'));
      assert.equal(reply.status, 202);
      queued.push(reply.body.queue_id as string);
    }
    const incidents = await Promise.all(
      queued.map((id) =>
        waitFor(`queue entry ${id} done`, async () => {
          const entry = await getJson(service.url, `/api/queue/${id}`);
          return entry.body.status === 'done' ? (entry.body.incident_id as string) : undefined;
        }),
      ),
    );
    assert.notEqual(incidents[0], incidents[1]);
  });

  it('a signed event id over 1024 characters is a 400, not a silent merge; an unsigned one is not read at all', async () => {
    for (const source of ['stdhooks', 'async-stdhooks']) {
      const reply = await deliverSigned(source, 'x'.repeat(1025), genericAlert('too-long-key'));
      assertEnvelope(reply, 400, 'bad_request');
      assert.match(reply.body.error.message, /signed event id is longer than 1024/);
    }
    const unsigned = await deliver(service.url, 'edr', 'edr-secret', genericAlert('too-long-unsigned'), { 'x-webhook-id': 'x'.repeat(1025) });
    assert.equal(unsigned.status, 201, JSON.stringify(unsigned.body));
  });

  it('a vendor alert id over 1024 characters is an invalid payload', async () => {
    const reply = await deliver(service.url, 'edr', 'edr-secret', genericAlert('i'.repeat(1025)));
    assertEnvelope(reply, 400, 'invalid_payload');
  });
});

describe('the client address', () => {
  it('a forged X-Forwarded-For from an untrusted peer is not recorded', async () => {
    const forged = `6.6.6.6, ${'<script>'.repeat(300)}`;
    const reply = await deliver(service.url, 'edr', 'edr-secret', genericAlert('forged-xff'), { 'x-forwarded-for': forged });
    assert.equal(reply.status, 201);
    const record = await waitFor('the delivery to be logged', async () => {
      const items = (await getJson(service.url, '/api/deliveries?source=edr&limit=50')).body.items as any[];
      return items.find((item) => item.incident_id === reply.body.incident_id);
    });
    assert.equal(record.remote_address, '127.0.0.1', 'the socket peer (loopback is not a trusted proxy here)');
  });
});

describe('answers outside the router use the envelope', () => {
  const cases: [string, string, number, string][] = [
    [
      'Content-Length and Transfer-Encoding together',
      'POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'bad_request',
    ],
    ['two different Content-Lengths', 'POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 400, 'bad_request'],
    ['a malformed Content-Length', 'POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello', 400, 'bad_request'],
    ['a bad chunk size', 'POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400, 'bad_request'],
    ['a NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400, 'bad_request'],
    ['raw UTF-8 in the path', 'GET /h\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['oversized headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['a method node does not know', 'FOO /api/webhooks/edr HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'method_not_allowed'],
  ];
  for (const [what, request, status, code] of cases) {
    it(`${what}: ${status} ${code}, connection closed`, async () => {
      const reply = await rawRequest(Buffer.from(request, 'utf8'));
      assertEnvelope(reply, status, code);
      assert.match(reply.headers['content-type'] ?? '', /^application\/json/);
      assert.ok(reply.closed, 'the parser cannot resynchronize: the connection is closed');
    });
  }

  for (const method of ['TRACE', 'PROPFIND', 'PUT']) {
    it(`${method} on the webhook path: 405 with Allow`, async () => {
      const reply = await rawRequest(`${method} /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assertEnvelope(reply, 405, 'method_not_allowed');
      assert.ok((reply.headers.allow ?? '').split(/,\s*/).includes('POST'), reply.headers.allow);
    });
  }

  // GET and DELETE on a source's path are the registration API's read and remove: a key is needed.
  for (const method of ['GET', 'DELETE']) {
    it(`${method} on the webhook path without an API key: 401 in the envelope`, async () => {
      const reply = await rawRequest(`${method} /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assertEnvelope(reply, 401, 'unauthorized');
    });
  }

  it('405 on other paths and 404 anywhere use the envelope', async () => {
    const post = await rawRequest('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assertEnvelope(post, 405, 'method_not_allowed');
    assert.match(post.headers.allow ?? '', /GET/);
    const trace = await rawRequest('TRACE /api/incidents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assertEnvelope(trace, 405, 'method_not_allowed');
    for (const path of ['/nowhere', '/api/nowhere']) {
      const missing = await rawRequest(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assertEnvelope(missing, 404, 'not_found');
    }
    const unknownMethodNowhere = await rawRequest('PROPFIND /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assertEnvelope(unknownMethodNowhere, 404, 'not_found');
  });

  it('a 413 on a kept-alive connection closes it right after the answer', async () => {
    const body = 'x'.repeat(4096);
    const reply = await rawRequest(
      `POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      5_000,
    );
    assertEnvelope(reply, 413, 'payload_too_large');
    assert.equal(reply.headers.connection, 'close');
    assert.ok(reply.closed, 'the server closed the connection');
    assert.ok(reply.elapsedMs < 3_000, `closed after ${reply.elapsedMs} ms, not at the request deadline`);
  });
});
