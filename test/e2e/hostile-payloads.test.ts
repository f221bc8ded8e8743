/**
 * Signed but hostile JSON: never a 5xx, never a crash, never a field name taken from the payload.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type RunningService } from '../helpers/service.js';
import { signedHeaders } from '../helpers/sign.js';

const SECRET = 'hostile-secret';
let service: RunningService;

before(async () => {
  service = await startService({ config: `sources:\n  edr:\n    secret: "${SECRET}"\n    max_body_bytes: 4194304\n` });
});
after(async () => {
  await service?.stop();
});

async function send(body: string | Buffer): Promise<{ status: number; json: any }> {
  const response = await fetch(`${service.url}/api/webhooks/edr`, { method: 'POST', body, headers: signedHeaders(SECRET, body) });
  return { status: response.status, json: await response.json() };
}

const HOSTILE: Record<string, string | Buffer> = {
  'prototype pollution keys': '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"data":{"__proto__":{"x":1},"severity":"high"}}',
  'mongo operator and dotted keys': '{"$where":"sleep(1000)","data":{"$gt":"","a.b.c":"x","severity":{"$ne":null}},"event_type":{"$regex":".*"}}',
  'NUL bytes in keys and values': '{"ev\\u0000ent":"x\\u0000y","data":{"\\u0000":"\\u0000"}}',
  'huge numbers': '{"event_type":"security_alert","timestamp":1e400,"data":{"alert_id":123456789012345678901234567890,"severity":-1e308}}',
  '100000-deep nesting': `{"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
  '100000-deep objects': `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
  'wide object': JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]))),
  'invalid UTF-8': Buffer.concat([Buffer.from('{"event_type":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
  'UTF-8 BOM': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"event_type":"x"}')]),
  'lone surrogate escapes': '{"event_type":"\\ud800","data":{"alert_id":"\\udfff"}}',
  'strings where objects are expected': '{"event_type":"security_alert","data":"not an object","metadata":"x","event":[1,2]}',
  'long strings': JSON.stringify({ event_type: 'x'.repeat(100_000), data: { alert_id: 'y'.repeat(100_000), details: { url: `http://${'a'.repeat(70_000)}.com` } } }),
};

describe('hostile payloads', () => {
  for (const [name, body] of Object.entries(HOSTILE)) {
    it(`answers ${name} without a 5xx`, async () => {
      const reply = await send(body);
      assert.ok(reply.status < 500, `${reply.status} ${JSON.stringify(reply.json)}`);
      if (reply.status >= 400) assert.equal(reply.json.error.code, 'invalid_payload');
      else assert.match(reply.json.incident_number, /^INC-\d{4}-\d{4,}$/);
    });
  }

  it('is still healthy and stores raw bodies byte-exact', async () => {
    const body = '{"event_type":"security_alert","data":{"alert_id":"raw-1","severity":"low","note":"  spaced\\tand ünïcödé "}}';
    const accepted = await send(body);
    assert.equal(accepted.status, 201);
    const incident = (await (await fetch(`${service.url}/api/incidents/${accepted.json.incident_id}`, { headers: { authorization: 'Bearer tw_test_token' } })).json()) as any;
    assert.equal(incident.raw, body);
    assert.equal(({} as any).polluted, undefined);
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  });
});
