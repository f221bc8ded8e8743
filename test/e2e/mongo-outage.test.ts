/**
 * A database outage in the middle of traffic: the service answers 503 unavailable with
 * Retry-After (never a 500, never a 2xx that was not stored), /readyz turns 503, and once the
 * database is back on the same port and data the service recovers by itself, without a restart.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { DedicatedFerretdb } from '../helpers/ferretdb.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { allIncidents, deliver, genericAlert, getAnonymous, waitFor, type Reply } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const SENDERS = 8;

let db: DedicatedFerretdb;
let service: RunningService;
before(async () => {
  db = await DedicatedFerretdb.start();
  service = await startService({ config: CONFIG, env: { MONGODB_URI: db.uri('tw_outage') } });
});
after(async () => {
  await service?.stop();
  await db?.stop();
});

const readyStatus = async () => (await getAnonymous(service.url, '/readyz')).status;

describe('database outage (MongoDB store)', () => {
  it('answers 503 unavailable with Retry-After while the database is down and recovers without a restart', async (t) => {
    const replies: { alertId: string; reply: Reply }[] = [];
    let sending = true;
    const senders = Array.from({ length: SENDERS }, async () => {
      while (sending) {
        const alertId = randomUUID();
        const reply = await deliver(service.url, 'edr', 'edr-secret', genericAlert(alertId));
        replies.push({ alertId, reply });
        // A sender backs off after a 503 (Retry-After says 5 s; the test is in a hurry).
        if (reply.status === 503) await sleep(50);
      }
    });
    const seen = (status: number, after = 0) => replies.slice(after).some(({ reply }) => reply.status === status);

    await waitFor('traffic to be stored', async () => (seen(201) ? true : undefined));
    assert.equal(await readyStatus(), 200);
    await db.kill();
    const killedAt = replies.length;
    await waitFor('/readyz to report the outage', async () => ((await readyStatus()) === 503 ? true : undefined), 10_000);
    // The outage lasts until several senders have each been turned away, not for a fixed time.
    await waitFor(() => replies.slice(killedAt).filter(({ reply }) => reply.status === 503).length >= 2 * SENDERS, {
      timeoutMs: 30_000,
      message: 'every sender to meet the outage',
    });

    await db.restart();
    const restartedAt = replies.length;
    await waitFor('/readyz to recover', async () => ((await readyStatus()) === 200 ? true : undefined), 20_000);
    await waitFor('incidents stored again', async () => (seen(201, restartedAt) ? true : undefined), 20_000);
    sending = false;
    await Promise.all(senders);

    for (const { reply } of replies) {
      // 202: a slow moment around the restart exceeded the inline budget; the inbox holds it.
      assert.ok(
        [201, 202, 503].includes(reply.status),
        `unexpected ${reply.status}: ${JSON.stringify(reply.body)}; service errors: ${JSON.stringify(service.logs.filter((entry) => entry.level === 50))}`,
      );
      if (reply.status === 503) {
        assert.equal(reply.body.error.code, 'unavailable');
        assert.ok(Number(reply.headers.get('retry-after')) > 0);
      }
    }
    const count = (status: number) => replies.filter(({ reply }) => reply.status === status).length;
    t.diagnostic(`${replies.length} deliveries: ${count(201)} × 201, ${count(503)} × 503, ${count(202)} × 202`);
    const stored = new Set((await allIncidents(service.url)).map((incident) => incident.incident_id));
    const acknowledged = replies.filter(({ reply }) => reply.status === 201).map(({ reply }) => reply.body.incident_id as string);
    assert.ok(acknowledged.length > 0);
    for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged incident ${id} is stored`);
  });
});
