/**
 * Exactly-once across replicas: two service processes on one MongoDB database receive every alert
 * four times at once (sender retries, duplicated deliveries); each alert becomes one incident.
 * Senders retry a 503 as real ones do (600 requests at once can exhaust the pool on a slow machine).
 * And one of two replicas killed with SIGKILL mid-burst: what it acknowledged is readable, its
 * senders' retries on the survivor find the incidents it stored, and no number is given twice.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { allIncidents, deliverRetrying, genericAlert, type Reply } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const ALERTS = 150;
const DELIVERIES_PER_ALERT = 4;

const services: RunningService[] = [];
before(async () => {
  // Inline only (no 202 fallback): this test is about the 201/200 answers of concurrent replicas.
  const env = { MONGODB_URI: freshMongoUri('tw_replicas'), TW_INLINE_BUDGET_MS: '0' };
  services.push(...(await Promise.all([startService({ config: CONFIG, env }), startService({ config: CONFIG, env })])));
});
after(async () => {
  await Promise.all(services.map((service) => service.stop()));
});

describe('two replicas on one MongoDB database', () => {
  it(`${ALERTS} alerts × ${DELIVERIES_PER_ALERT} concurrent deliveries give ${ALERTS} incidents, one 201 each, the rest duplicates`, async () => {
    const alerts = Array.from({ length: ALERTS }, () => randomUUID());
    const replies = await Promise.all(
      alerts.flatMap((alertId) =>
        Array.from({ length: DELIVERIES_PER_ALERT }, (_, copy) =>
          deliverRetrying(services[copy % 2]!.url, 'edr', 'edr-secret', genericAlert(alertId)).then((reply) => ({ alertId, reply })),
        ),
      ),
    );
    const byAlert = new Map<string, Reply[]>();
    for (const { alertId, reply } of replies) byAlert.set(alertId, [...(byAlert.get(alertId) ?? []), reply]);

    const incidents = await allIncidents(services[0]!.url);
    assert.equal(incidents.length, ALERTS);
    assert.equal(new Set(incidents.map((incident) => incident.incident_number)).size, ALERTS);
    const storedIds = new Set(incidents.map((incident) => incident.incident_id));

    for (const [alertId, alertReplies] of byAlert) {
      const seen = `alert ${alertId}: ${JSON.stringify(alertReplies.map((r) => [r.status, r.body]))}`;
      const created = alertReplies.filter((reply) => reply.status === 201);
      // Exactly one 201, unless the only creating request was answered 503 after its write
      // committed; then its retry, like every other copy, is a duplicate of the stored incident.
      assert.ok(created.length <= 1, seen);
      const ids = new Set(alertReplies.map((reply) => reply.body?.incident_id));
      assert.equal(ids.size, 1, `every copy answers the same incident; ${seen}`);
      assert.ok(storedIds.has([...ids][0]), `the answered incident is stored; ${seen}`);
      for (const reply of alertReplies.filter((r) => r !== created[0])) {
        assert.equal(reply.status, 200, seen);
        assert.equal(reply.body.duplicate, true);
      }
    }
    assert.ok([...byAlert.values()].filter((r) => r.some((reply) => reply.status === 201)).length >= ALERTS * 0.9, 'nearly every alert had its 201');
  });
});

describe('kill -9 of one of two replicas mid-burst', () => {
  it('loses no acknowledged incident, gives no number twice, and makes each alert one incident when senders retry on the survivor', async (t) => {
    const env = { MONGODB_URI: freshMongoUri('tw_replica_kill'), TW_INLINE_BUDGET_MS: '0' };
    const [doomed, survivor] = await Promise.all([startService({ config: CONFIG, env }), startService({ config: CONFIG, env })]);
    services.push(doomed, survivor);
    const alerts = Array.from({ length: 240 }, () => randomUUID());
    let acknowledgedByDoomed = 0;
    let killed = false;
    let cut = 0;
    // Half to each replica; a sender whose connection dies with its replica sends the same alert to
    // the other (what a retrying sender behind a Service does), and so does one answered 503.
    const deliverOnce = async (alertId: string, first: RunningService): Promise<Reply> => {
      try {
        const reply = await deliverRetrying(first.url, 'edr', 'edr-secret', genericAlert(alertId));
        if (first === doomed && reply.status < 300 && ++acknowledgedByDoomed === 40 && !killed) {
          killed = true;
          doomed.process.kill('SIGKILL');
        }
        return reply;
      } catch {
        cut += 1;
        return deliverRetrying(survivor.url, 'edr', 'edr-secret', genericAlert(alertId));
      }
    };
    const replies = new Map<string, Reply[]>();
    const inFlight = new Set<Promise<void>>();
    for (const [index, alertId] of alerts.entries()) {
      const first = !killed && index % 2 === 0 ? doomed : survivor;
      const delivery = deliverOnce(alertId, first).then((reply) => void replies.set(alertId, [...(replies.get(alertId) ?? []), reply]));
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
      if (inFlight.size >= 16) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    assert.ok(killed, 'the replica was killed mid-burst');
    await doomed.exited;
    // Every alert is delivered once more to the survivor: a sender's retry after a lost answer.
    const retries = await Promise.all(alerts.map((alertId) => deliverRetrying(survivor.url, 'edr', 'edr-secret', genericAlert(alertId))));

    const incidents = await allIncidents(survivor.url);
    const stored = new Map(incidents.map((incident) => [incident.incident_id, incident.incident_number]));
    assert.equal(new Set(stored.values()).size, incidents.length, 'no number given twice');
    assert.equal(incidents.length, alerts.length, 'each alert is one incident');
    for (const [index, alertId] of alerts.entries()) {
      const answers = [...(replies.get(alertId) ?? []), retries[index]!];
      for (const reply of answers) {
        assert.ok([200, 201].includes(reply.status), `alert ${alertId}: ${reply.status} ${JSON.stringify(reply.body)}`);
        assert.equal(stored.get(reply.body.incident_id), reply.body.incident_number, 'acknowledged and readable with its number');
      }
      assert.equal(new Set(answers.map((reply) => reply.body.incident_id)).size, 1, `every answer for ${alertId} names one incident`);
    }
    t.diagnostic(`${alerts.length} alerts, ${acknowledgedByDoomed} acknowledged by the killed replica, ${cut} connections cut and retried on the survivor`);
  });
});
