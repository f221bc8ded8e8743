/**
 * Every 2xx means durably stored: a kill -9 in the middle of a burst of concurrent deliveries loses
 * no acknowledged incident and duplicates no number; numbering continues after the restart.
 */
// servers: none
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { signedHeaders } from '../helpers/sign.js';

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const AUTH = { authorization: 'Bearer tw_test_token' };

const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.kill9();
});

interface Acknowledged {
  id: string;
  number: string;
  alertId: string;
}

async function deliver(url: string, alertId: string): Promise<Acknowledged | undefined> {
  const body = JSON.stringify({ event_type: 'security_alert', source: 'edr', data: { alert_id: alertId, severity: 'high' } });
  try {
    const response = await fetch(`${url}/api/webhooks/edr`, { method: 'POST', body, headers: signedHeaders('edr-secret', body) });
    if (response.status !== 201) return undefined;
    const accepted = (await response.json()) as { incident_id: string; incident_number: string };
    return { id: accepted.incident_id, number: accepted.incident_number, alertId };
  } catch {
    return undefined; // the connection died with the process: not acknowledged
  }
}

async function allIncidents(url: string): Promise<{ incident_id: string; incident_number: string }[]> {
  const items: { incident_id: string; incident_number: string }[] = [];
  let cursor = '';
  do {
    const page = (await (await fetch(`${url}/api/incidents?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { headers: AUTH })).json()) as {
      items: { incident_id: string; incident_number: string }[];
      next: string | null;
    };
    items.push(...page.items);
    cursor = page.next ?? '';
  } while (cursor);
  return items;
}

describe('durability of acknowledged incidents (embedded store)', () => {
  it('kill -9 during a concurrent burst loses no acknowledged incident and reuses no number', async () => {
    const first = await startService({ config: CONFIG });
    services.push(first);
    const acknowledged: Acknowledged[] = [];
    let killed = false;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < 2000 && !killed; i++) {
      const delivery = deliver(first.url, randomUUID()).then((ack) => {
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
    const next = await deliver(second.url, randomUUID());
    assert.ok(next);
    assert.ok(Number(next.number.split('-')[2]) > highest, `${next.number} continues after ${highest}`);

    // A sender retrying an acknowledged delivery after the crash gets the original back.
    const retried = acknowledged[0]!;
    const body = JSON.stringify({ event_type: 'security_alert', source: 'edr', data: { alert_id: retried.alertId, severity: 'high' } });
    const response = await fetch(`${second.url}/api/webhooks/edr`, { method: 'POST', body, headers: signedHeaders('edr-secret', body) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'accepted', incident_id: retried.id, incident_number: retried.number, duplicate: true });
  });
});
