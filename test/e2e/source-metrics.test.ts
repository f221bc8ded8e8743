/**
 * The per-source series the alerts rely on: the time of the last accepted delivery is exposed for
 * each registered source, and disappears when the source is removed, so a removed sender never
 * looks like a silent one.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { signedHeaders } from '../helpers/sign.js';

const services: ServiceUnderTest[] = [];
after(async () => {
  for (const service of services) await service.stop();
});

function lastReceived(exposition: string): Map<string, number> {
  const series = [...exposition.matchAll(/^webhook_last_received_timestamp_seconds\{source="([^"]+)"\} (\S+)$/gm)];
  return new Map(series.map(([, source, value]) => [source!, Number(value)]));
}

describe('webhook_last_received_timestamp_seconds', () => {
  it('is the time of the last 2xx per source, not moved by rejected requests, and dropped when the source is removed', async () => {
    const service = await startInProcess({ config: 'sources:\n  edr:\n    secret: "edr-secret"\n  siem:\n    secret: "siem-secret"\n' });
    services.push(service);
    const metrics = async () => lastReceived(await (await fetch(`${service.url}/metrics`)).text());
    const before = Date.now() / 1000;
    for (const [source, secret] of [
      ['edr', 'edr-secret'],
      ['siem', 'siem-secret'],
    ] as const) {
      const body = JSON.stringify({ event_type: 'x', data: { alert_id: `${source}-1` } });
      assert.equal((await fetch(`${service.url}/api/webhooks/${source}`, { method: 'POST', body, headers: signedHeaders(secret, body) })).status, 201);
    }
    const accepted = await metrics();
    for (const source of ['edr', 'siem']) {
      const at = accepted.get(source);
      assert.ok(at !== undefined && at >= Math.floor(before) && at <= Date.now() / 1000, `${source}: ${at}`);
    }

    const forged = JSON.stringify({ event_type: 'x', data: { alert_id: 'edr-2' } });
    assert.equal((await fetch(`${service.url}/api/webhooks/edr`, { method: 'POST', body: forged, headers: signedHeaders('wrong', forged) })).status, 401);
    assert.equal((await metrics()).get('edr'), accepted.get('edr'));

    const next = join(dirname(service.configPath), 'next.yaml');
    writeFileSync(next, 'sources:\n  edr:\n    secret: "edr-secret"\n');
    renameSync(next, service.configPath);
    const deadline = Date.now() + 10_000;
    let current = await metrics();
    while (current.has('siem') && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 100));
      current = await metrics();
    }
    assert.deepEqual([...current.keys()], ['edr']);
  });
});
