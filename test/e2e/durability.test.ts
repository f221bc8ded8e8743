/**
 * Every 2xx means durably stored: a kill -9 in the middle of a burst of concurrent deliveries loses
 * no acknowledged incident and duplicates no number; numbering continues after the restart. And
 * the wait for the disk is seen, not assumed: under strace, each 2xx is written only after an
 * fsync of the store's file that followed the reading of its request.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { join } from 'node:path';
import { allIncidents, deliver, genericAlert } from '../helpers/api-client.js';
import { acknowledgements, straceWrapper } from '../helpers/syscall-trace.js';

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

describe('every acknowledgement waits for the disk (embedded store)', () => {
  it('writes each 201 only after an fsync of the incidents file that followed the reading of its request', async (t) => {
    const { wrapper, traceFile } = straceWrapper();
    const service = await startService({ config: CONFIG, wrapper });
    services.push(service);
    const created: string[] = [];
    // One at a time (one commit each), then bursts that share commits (group commit).
    for (let i = 0; i < 10; i++) {
      const reply = await deliver(service.url, 'edr', 'edr-secret', genericAlert(randomUUID()));
      assert.equal(reply.status, 201);
      created.push(reply.body.incident_id);
    }
    for (let burst = 0; burst < 3; burst++) {
      const replies = await Promise.all(Array.from({ length: 8 }, () => deliver(service.url, 'edr', 'edr-secret', genericAlert(randomUUID()))));
      for (const reply of replies) assert.equal(reply.status, 201);
      created.push(...replies.map((reply) => reply.body.incident_id));
    }
    await service.stop();

    const acknowledged = acknowledgements(traceFile, join(service.dataDir, 'tw-webhooks.sqlite'));
    assert.equal(acknowledged.length, created.length, 'the trace shows every 2xx the test received');
    const early = acknowledged.filter((ack) => !ack.afterFsync);
    assert.deepEqual(early, [], 'no 2xx before its commit was fsynced');
    t.diagnostic(`${acknowledged.length} acknowledgements, each after an fsync of ${[...new Set(acknowledged.flatMap((ack) => ack.fsynced))].join(', ')}`);
  });
});
