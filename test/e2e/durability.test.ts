/**
 * Every 2xx means durably stored: a kill -9 in the middle of a burst of concurrent deliveries loses
 * no acknowledged incident and duplicates no number; numbering continues after the restart.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { allIncidents, deliver, genericAlert } from '../helpers/api-client.js';

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';

const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.kill9();
});

interface Acknowledged {
  id: string;
  number: string;
  alertId: string;
}

async function send(url: string, alertId: string): Promise<Acknowledged | undefined> {
  try {
    const reply = await deliver(url, 'edr', 'edr-secret', genericAlert(alertId));
    if (reply.status !== 201) return undefined;
    return { id: reply.body.incident_id, number: reply.body.incident_number, alertId };
  } catch {
    return undefined; // the connection died with the process: not acknowledged
  }
}

describe('durability of acknowledged incidents (embedded store)', () => {
  it('kill -9 during a concurrent burst loses no acknowledged incident and reuses no number', async () => {
    const first = await startService({ config: CONFIG });
    services.push(first);
    const acknowledged: Acknowledged[] = [];
    let killed = false;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < 2000 && !killed; i++) {
      const delivery = send(first.url, randomUUID()).then((ack) => {
        if (ack) acknowledged.push(ack);
        if (acknowledged.length >= 150 && !killed) {
          killed = true;
          first.process.kill('SIGKILL');
        }
      });
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
      if (inFlight.size >= 40) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await first.kill9();
    assert.ok(killed, 'the process was killed mid-burst');
    assert.ok(acknowledged.length >= 150);

    const second = await startService({ config: CONFIG, dataDir: first.dataDir });
    services.push(second);
    const stored = await allIncidents(second.url);
    const storedById = new Map(stored.map((incident) => [incident.incident_id, incident.incident_number]));
    for (const ack of acknowledged) assert.equal(storedById.get(ack.id), ack.number, `acknowledged ${ack.number} survived`);
    assert.equal(new Set(stored.map((incident) => incident.incident_number)).size, stored.length, 'numbers are unique');

    const highest = Math.max(...stored.map((incident) => Number(incident.incident_number.split('-')[2])));
    const next = await send(second.url, randomUUID());
    assert.ok(next);
    assert.ok(Number(next.number.split('-')[2]) > highest, `${next.number} continues after ${highest}`);

    // A sender retrying an acknowledged delivery after the crash gets the original back.
    const retried = acknowledged[0]!;
    const again = await deliver(second.url, 'edr', 'edr-secret', genericAlert(retried.alertId));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: 'accepted', incident_id: retried.id, incident_number: retried.number, duplicate: true });
  });
});
