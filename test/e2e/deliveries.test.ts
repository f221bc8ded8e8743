/** The delivery log: every webhook request, accepted or rejected, is listed by `GET /api/deliveries`. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { storeEnvs } from '../helpers/mongo-database.js';
import { deliver, genericAlert, getAnonymous, getJson, waitFor } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const services: ServiceUnderTest[] = [];
after(async () => {
  await Promise.all(services.map((service) => service.stop()));
});

for (const [kind, env] of storeEnvs('tw_deliveries')) {
  describe(`delivery log (${kind} store)`, () => {
    it('records accepted and rejected requests with status, code, latency, incident and address', async () => {
      const service = await startInProcess({ config: CONFIG, env: { ...env() } });
      services.push(service);
      const accepted = await deliver(service.url, 'edr', 'edr-secret', genericAlert(randomUUID()));
      const rejected = await deliver(service.url, 'edr', 'wrong-secret', genericAlert(randomUUID()));
      const unknown = await deliver(service.url, 'nope', 'edr-secret', genericAlert(randomUUID()));
      assert.deepEqual([accepted.status, rejected.status, unknown.status], [201, 401, 404]);

      const records = await waitFor('the delivery log to be written', async () => {
        const items = (await getJson(service.url, '/api/deliveries?limit=10')).body.items;
        return items.length === 3 ? items : undefined;
      });
      assert.deepEqual(
        records.map((r: any) => [r.source, r.status, r.code]),
        [
          ['_unknown', 404, 'unknown_source'],
          ['edr', 401, 'invalid_signature'],
          ['edr', 201, null],
        ],
      );
      const created = records[2];
      assert.equal(created.incident_id, accepted.body.incident_id);
      assert.equal(created.remote_address, '127.0.0.1');
      assert.ok(created.latency_ms >= 0 && created.latency_ms < 10_000);
      assert.ok(Date.parse(created.at) <= Date.now());

      const edrOnly = (await getJson(service.url, '/api/deliveries?source=edr&limit=1')).body.items;
      assert.deepEqual(
        edrOnly.map((r: any) => r.status),
        [401],
      );
      assert.equal((await getAnonymous(service.url, '/api/deliveries')).status, 401);
      assert.equal((await getJson(service.url, '/api/deliveries?limit=0')).status, 400);
    });
  });
}
