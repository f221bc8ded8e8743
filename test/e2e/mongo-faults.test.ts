/**
 * A non-transient MongoDB error under the running service: it answers 503 unavailable with
 * Retry-After, /readyz turns 503 with the reason, and the log says it once, not per request.
 * FerretDB, the test server, has no users or roles to take away and no disk quota to fill, so the
 * fault is one it really produces: its storage failing. The PostgreSQL pages of the incidents
 * collection are damaged under it (the embedded store's own test damages its SQLite file the same
 * way, store-integrity.test.ts); FerretDB then answers InternalError, as MongoDB does when an
 * operation fails inside the server rather than on the way to it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { DedicatedFerretdb } from '../helpers/ferretdb.js';
import { deliver, genericAlert, getAnonymous, metricsText, sample, waitFor } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const DATABASE = 'tw_faults';

let db: DedicatedFerretdb;
let service: RunningService;
before(async () => {
  db = await DedicatedFerretdb.start();
  service = await startService({ config: CONFIG, env: { MONGODB_URI: db.uri(DATABASE) } });
});
after(async () => {
  await service?.stop();
  await db?.stop();
});

describe('a non-transient MongoDB error (MongoDB store)', () => {
  it('turns the service unready with the reason, answers 503 with Retry-After and logs it once', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await deliver(service.url, 'edr', 'edr-secret', genericAlert(randomUUID()))).status, 201);
    assert.equal((await getAnonymous(service.url, '/readyz')).status, 200);

    const linesBefore = service.logs.length;
    await db.damageCollection(DATABASE, 'incidents');

    // The first requests after PostgreSQL's restart may meet connections of FerretDB's pool that it
    // ended (an outage, no fault: not counted), so requests go on until six have met the damage.
    const serverErrors = async () => sample(await metricsText(service.url), 'tw_store_errors_total', { store: 'mongodb', kind: 'server_error' }) ?? 0;
    let sent = 0;
    while ((await serverErrors()) < 6) {
      assert.ok(sent++ < 40, 'the damage is met within 40 requests');
      const refused = await deliver(service.url, 'edr', 'edr-secret', genericAlert(randomUUID()));
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'unavailable');
      assert.equal(refused.headers.get('retry-after'), '5');
    }
    const unready = await getAnonymous(service.url, '/readyz');
    assert.equal(unready.status, 503);
    assert.deepEqual(unready.body.checks, { sources: true, store: false });
    assert.match(unready.body.store_error, /^MongoDB: .*invalid page in block.* \(code 1\)$/);

    const metrics = await metricsText(service.url);
    assert.equal(sample(metrics, 'tw_store_healthy', { store: 'mongodb' }), 0);

    const unhealthy = await waitFor('the store to say it is unhealthy', async () => {
      const lines = service.logs.slice(linesBefore).filter((entry) => String(entry.msg).startsWith('store unhealthy: '));
      return lines.length > 0 ? lines : undefined;
    });
    assert.equal(unhealthy.length, 1, `once for ${sent} failed requests`);
    assert.equal(unhealthy[0]!.kind, 'server_error');
    assert.equal(unhealthy[0]!.store, 'mongodb');
  });
});
