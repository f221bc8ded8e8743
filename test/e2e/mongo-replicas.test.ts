/**
 * Exactly-once across replicas: two service processes on one MongoDB database receive every alert
 * four times at once (sender retries, duplicated deliveries); each alert becomes one incident.
 * Senders retry a 503 as real ones do (600 requests at once can exhaust the pool on a slow machine).
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
