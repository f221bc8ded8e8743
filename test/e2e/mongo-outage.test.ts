/**
 * A database outage in the middle of traffic: the MongoDB-wire server is killed (SIGKILL) and
 * restarted on the same port and data while senders send to a sync and an async source. Between,
 * the service answers only 503 unavailable with Retry-After (never a 500, never a 2xx that was not
 * stored), /readyz turns 503, and once the database is back it recovers by itself, without a
 * restart: every 201 is readable with its number, every 202's entry is processed into a readable
 * incident, and no number is given twice.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { DedicatedFerretdb } from '../helpers/ferretdb.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { allIncidents, deliver, genericAlert, getAnonymous, getJson, waitFor, type Reply } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n  queued:\n    secret: "queued-secret"\n    processing: async\n';
const SENDERS = 8;
/** Every fourth sender delivers to the async source, answered 202 once its inbox entry is stored. */
const senderSource = (index: number) => (index % 4 === 3 ? { source: 'queued', secret: 'queued-secret' } : { source: 'edr', secret: 'edr-secret' });

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
  it('answers only 503 with Retry-After while the database is down, recovers without a restart, and loses or reuses nothing it acknowledged', async (t) => {
    const replies: { alertId: string; reply: Reply }[] = [];
    const failures: string[] = [];
    let sending = true;
    const senders = Array.from({ length: SENDERS }, async (_, index) => {
      const { source, secret } = senderSource(index);
      while (sending) {
        const alertId = randomUUID();
        try {
          const reply = await deliver(service.url, source, secret, genericAlert(alertId));
          replies.push({ alertId, reply });
          // A sender backs off after a 503 (Retry-After says 5 s; the test is in a hurry).
          if (reply.status === 503) await sleep(50);
        } catch (error) {
          failures.push(String((error as { cause?: unknown }).cause ?? error));
          await sleep(50);
        }
      }
    });
    const seen = (status: number, after = 0) => replies.slice(after).some(({ reply }) => reply.status === status);

    await waitFor('traffic to be stored', async () => (seen(201) && seen(202) ? true : undefined));
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
    await waitFor('incidents stored again', async () => (seen(201, restartedAt) && seen(202, restartedAt) ? true : undefined), 20_000);
    sending = false;
    await Promise.all(senders);

    assert.deepEqual(failures, [], 'the service stayed up: no connection failed');
    for (const { reply } of replies) {
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
    t.diagnostic(`${replies.length} deliveries: ${count(201)} × 201, ${count(202)} × 202, ${count(503)} × 503`);
    assert.ok(count(201) > 0 && count(202) > 0, 'both kinds of acknowledgement were given');

    // A 202 promises processing: each entry becomes an incident once the database is back.
    const queuedIncidents = new Map<string, string>();
    for (const { reply } of replies.filter(({ reply }) => reply.status === 202)) {
      const entry = await waitFor(
        async () => {
          const read = await getJson(service.url, `/api/queue/${reply.body.queue_id}`);
          return read.body?.status === 'done' ? read.body : undefined;
        },
        { timeoutMs: 30_000, message: `${reply.body.queue_id} processed` },
      );
      queuedIncidents.set(entry.incident_id, entry.incident_number);
    }

    const stored = await allIncidents(service.url);
    const storedNumbers = new Map(stored.map((incident) => [incident.incident_id, incident.incident_number]));
    assert.equal(new Set(storedNumbers.values()).size, stored.length, 'no number given twice');
    for (const { reply } of replies.filter(({ reply }) => reply.status === 201)) {
      assert.equal(storedNumbers.get(reply.body.incident_id), reply.body.incident_number, `acknowledged incident ${reply.body.incident_number} is stored`);
    }
    for (const [id, number] of queuedIncidents) assert.equal(storedNumbers.get(id), number, `queued incident ${number} is stored`);
  });
});
