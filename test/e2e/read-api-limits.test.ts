/**
 * The read API over real HTTP against the real service: lists of large incidents stay within a
 * memory bound and leave the service responsive; query parameters are validated.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, getJson } from '../helpers/api-client.js';

const INCIDENTS = 40;
const RAW_BYTES = 1024 * 1024;
/** Four concurrent lists of 40 × 1 MB raw bodies took well over 300 MB when lists carried `raw`. */
const RSS_GROWTH_BOUND_MB = 100;
const HEALTHZ_BOUND_MS = 1_000;

let service: RunningService;

before(async () => {
  service = await startService({ config: 'sources:\n  edr:\n    secret: "edr-secret"\n    max_body_bytes: 2097152\n' });
  const filler = 'x'.repeat(RAW_BYTES);
  for (let i = 0; i < INCIDENTS; i++) {
    const body = JSON.stringify({ event_type: 'security_alert', data: { alert_id: `big-${i}`, severity: 'high', blob: filler } });
    const reply = await deliver(service.url, 'edr', 'edr-secret', body);
    assert.equal(reply.status, 201);
  }
});
after(async () => {
  await service?.stop();
});

function rssMegabytes(pid: number): number {
  const kilobytes = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kilobytes) / 1024;
}

describe('GET /api/incidents over 1 MB incidents', () => {
  it('lists summaries without raw; the single read keeps it', async () => {
    const page = await getJson(service.url, '/api/incidents?limit=5');
    assert.equal(page.status, 200);
    assert.equal(page.body.items.length, 5);
    for (const item of page.body.items) assert.equal('raw' in item, false);
    const one = await getJson(service.url, `/api/incidents/${page.body.items[0].incident_id}`);
    assert.equal(one.body.raw.length > RAW_BYTES, true);
  });

  it('concurrent lists keep RSS within a bound and /healthz responsive', async (t) => {
    const pid = service.process.pid!;
    const baseline = rssMegabytes(pid);
    let peak = baseline;
    let slowestHealthzMs = 0;
    let listing = true;
    const sampler = (async () => {
      while (listing) {
        peak = Math.max(peak, rssMegabytes(pid));
        const started = Date.now();
        const health = await fetch(`${service.url}/healthz`);
        assert.equal(health.status, 200);
        slowestHealthzMs = Math.max(slowestHealthzMs, Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    for (let round = 0; round < 3; round++) {
      const pages = await Promise.all(Array.from({ length: 4 }, () => getJson(service.url, '/api/incidents?limit=500')));
      for (const page of pages) assert.equal(page.body.items.length, INCIDENTS);
    }
    listing = false;
    await sampler;
    peak = Math.max(peak, rssMegabytes(pid));
    t.diagnostic(`RSS ${Math.round(baseline)} MB → peak ${Math.round(peak)} MB; slowest /healthz ${slowestHealthzMs} ms`);
    assert.ok(peak - baseline < RSS_GROWTH_BOUND_MB, `RSS grew ${Math.round(peak - baseline)} MB (from ${Math.round(baseline)} MB)`);
    assert.ok(slowestHealthzMs < HEALTHZ_BOUND_MS, `/healthz took ${slowestHealthzMs} ms`);
  });
});

describe('query parameters', () => {
  const cases: [string, RegExp][] = [
    ['/api/incidents?limit=abc', /limit must be an integer from 1 to 500/],
    ['/api/incidents?limit=501', /limit must be an integer from 1 to 500/],
    ['/api/incidents?severity=urgent', /severity must be one of critical, high, medium, low, info/],
    ['/api/incidents?since=yesterday', /since must be an ISO-8601 time/],
    ['/api/incidents?cursor=not-ours', /Invalid pagination cursor/],
    ['/api/incidents?colour=red', /Unknown query parameter 'colour'/],
    ['/api/triage/requests?state=done', /state must be one of pending, dispatched, failed/],
    ['/api/deliveries?limit=0', /limit must be an integer from 1 to 1000/],
  ];
  for (const [path, message] of cases) {
    it(`${path}: 400 bad_request`, async () => {
      const reply = await getJson(service.url, path);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error.code, 'bad_request');
      assert.match(reply.body.error.message, message);
    });
  }

  it('coerces and applies valid parameters', async () => {
    const reply = await getJson(service.url, '/api/incidents?limit=3&severity=high&since=2000-01-01T00:00:00Z&source=');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.items.length, 3);
    assert.equal(typeof reply.body.next, 'string');
    const next = await getJson(service.url, `/api/incidents?limit=3&severity=high&cursor=${reply.body.next}`);
    assert.equal(next.body.items.length, 3);
    assert.notEqual(next.body.items[0].incident_id, reply.body.items[0].incident_id);
  });
});
