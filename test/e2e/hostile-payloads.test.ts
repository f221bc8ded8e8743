/**
 * Signed but hostile JSON through the whole service, on both stores: never a 5xx, never a crash,
 * never a field name taken from the payload, and no prototype pollution inside the service process.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { storeEnvs } from '../helpers/mongo-database.js';
import { deliver, getAnonymous, getJson } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const SECRET = 'hostile-secret';

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
  'long strings': JSON.stringify({
    event_type: 'x'.repeat(100_000),
    data: { alert_id: 'y'.repeat(100_000), details: { url: `http://${'a'.repeat(70_000)}.com` } },
  }),
};

/** What normalization made of a payload, as the read API shows it. */
const normalized = (incident: any) => ({
  title: incident.title,
  severity: incident.severity,
  vendor_severity: incident.vendor_severity,
  event_type: incident.event_type,
  external_id: incident.external_id,
  incident_type: incident.incident_type,
  occurred_at: incident.occurred_at,
  observables: incident.observables,
});

for (const [kind, env] of storeEnvs('tw_hostile')) {
  describe(`hostile payloads (${kind} store)`, () => {
    let service: ServiceUnderTest;
    before(async () => {
      service = await startInProcess({ config: `sources:\n  edr:\n    secret: "${SECRET}"\n    max_body_bytes: 4194304\n`, env: env() });
    });
    after(async () => {
      await service?.stop();
    });

    const send = (body: string | Buffer) => deliver(service.url, 'edr', SECRET, body);
    async function stored(body: string): Promise<any> {
      const accepted = await send(body);
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      const incident = await getJson(service.url, `/api/incidents/${accepted.body.incident_id}`);
      assert.equal(incident.status, 200);
      return incident.body;
    }

    for (const [name, body] of Object.entries(HOSTILE)) {
      it(`answers ${name} without a 5xx`, async () => {
        const reply = await send(body);
        assert.ok(reply.status < 500, `${reply.status} ${JSON.stringify(reply.body)}`);
        if (reply.status >= 400) assert.equal(reply.body.error.code, 'invalid_payload');
        else assert.match(reply.body.incident_number, /^INC-\d{4}-\d{4,}$/);
      });
    }

    it('does not pollute prototypes inside the service: a later payload normalizes as before', async () => {
      // A payload with none of the fields normalization looks for: if Object.prototype inside the
      // service gained `title`, `severity`, `alert_id`, … the read of these fields would find them.
      const probe = () => JSON.stringify({ data: { note: randomUUID() } });
      const before = normalized(await stored(probe()));
      const poison = {
        title: 'POLLUTED',
        severity: 'critical',
        alert_id: 'polluted-id',
        event_type: 'polluted',
        category: 'phishing',
        timestamp: '2020-01-01T00:00:00Z',
        id: 'polluted-id',
      };
      const hostileBody = `{"__proto__":${JSON.stringify(poison)},"constructor":{"prototype":${JSON.stringify(poison)}},"data":{"__proto__":${JSON.stringify(poison)},"note":"${randomUUID()}"}}`;
      const hostile = await stored(hostileBody);
      assert.equal(hostile.raw, hostileBody, 'stored byte-exact');
      assert.deepEqual(normalized(hostile), before, 'the __proto__ keys were not read as fields');

      const after = await stored(probe());
      assert.deepEqual(normalized(after), before);
      assert.doesNotMatch(JSON.stringify({ ...after, raw: undefined }), /POLLUTED|polluted/);
    });

    it('is still healthy and stores raw bodies byte-exact', async () => {
      const body = '{"event_type":"security_alert","data":{"alert_id":"raw-1","severity":"low","note":"  spaced\\tand ünïcödé "}}';
      const incident = await stored(body);
      assert.equal(incident.raw, body);
      assert.equal(incident.severity, 'low');
      assert.equal(incident.external_id, 'raw-1');
      assert.equal((await getAnonymous(service.url, '/healthz')).status, 200);
      assert.equal((await getAnonymous(service.url, '/readyz')).status, 200);
    });
  });
}
