/**
 * Correctly signed alerts whose text is shaped to make a matcher backtrack (phishing text relayed by
 * an email gateway can hold `http://a` + 60,000 dots), over real HTTP against the real service:
 * each is answered in milliseconds and /healthz keeps answering while several are in flight.
 * The quadratic trailing trims this guards against took seconds per field and starved the loop.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, getAnonymous, getJson, type Reply } from '../helpers/api-client.js';

const SECRET = 'gateway-secret';
const RUN = 60_000;
/** Well under a second for the whole request: store and HTTP included, on a loaded 2-core machine. */
const DELIVERY_BOUND_MS = 1_000;
const HEALTHZ_BOUND_MS = 500;
const CONCURRENT = 5;

/** Hostile text → what the walk still finds in it (a URL longer than an observable may be is none). */
const VARIANTS: Record<string, { text: string; urls: string[]; emails: string[] }> = {
  'a URL with 60,000 dots': { text: `http://a${'.'.repeat(RUN)}x`, urls: [], emails: [] },
  'a URL followed by 60,000 spaces': { text: `http://a${' '.repeat(RUN)}x`, urls: ['http://a'], emails: [] },
  'a domain with 60,000 dashes': { text: `mail${'-'.repeat(RUN)}gateway.example.com!`, urls: [], emails: [] },
  'an email address with 60,000 dots': { text: `bob@${'.'.repeat(RUN)}example.com`, urls: [], emails: [] },
  'an email address with 60,000 colons': { text: `mailto:bob@example.com${':'.repeat(RUN)}x`, urls: [], emails: [] },
};

let sequence = 0;
/** The text in every field a generic alert's normalization reads: title, description, free text, a domain. */
function phishingAlert(text: string): string {
  sequence++;
  return JSON.stringify({
    event_type: 'email.phishing',
    timestamp: '2026-01-15T10:00:00Z',
    data: { alert_id: `gw-${sequence}`, severity: 'high', title: text, description: text, details: { body: text, domain: text } },
  });
}

async function timed(send: () => Promise<Reply>): Promise<{ reply: Reply; elapsedMs: number }> {
  const started = performance.now();
  const reply = await send();
  return { reply, elapsedMs: performance.now() - started };
}

let service: RunningService;

before(async () => {
  service = await startService({ config: `sources:\n  email-gateway:\n    secret: "${SECRET}"\n` });
});
after(async () => {
  await service?.stop();
});

describe('signed alerts with backtracking-shaped text', () => {
  for (const [name, { text, urls, emails }] of Object.entries(VARIANTS)) {
    it(`stores ${name} in well under a second`, async (t) => {
      const body = phishingAlert(text);
      const { reply, elapsedMs } = await timed(() => deliver(service.url, 'email-gateway', SECRET, body));
      t.diagnostic(`${Math.round(body.length / 1000)} kB answered ${reply.status} in ${elapsedMs.toFixed(1)} ms`);
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      assert.ok(elapsedMs < DELIVERY_BOUND_MS, `answered in ${elapsedMs.toFixed(0)} ms`);
      const incident = await getJson(service.url, `/api/incidents/${reply.body.incident_id}`);
      assert.equal(incident.status, 200);
      assert.equal(incident.body.raw, body);
      assert.deepEqual(incident.body.observables.urls, urls);
      assert.deepEqual(incident.body.observables.emails, emails);
    });
  }

  it(`answers /healthz quickly while ${CONCURRENT} such alerts are in flight`, async (t) => {
    const texts = Object.values(VARIANTS).map(({ text }) => text);
    const deliveries = Array.from({ length: CONCURRENT }, (_, i) =>
      timed(() => deliver(service.url, 'email-gateway', SECRET, phishingAlert(texts[i % texts.length]!))),
    );
    let inFlight = true;
    const settled = Promise.all(deliveries).finally(() => (inFlight = false));
    const healthz: number[] = [];
    // At least one probe, sent right after the deliveries, whether or not they are still in flight.
    do {
      const { reply, elapsedMs } = await timed(() => getAnonymous(service.url, '/healthz'));
      assert.equal(reply.status, 200, `/healthz answered ${reply.status} after ${elapsedMs.toFixed(0)} ms`);
      healthz.push(elapsedMs);
      await sleep(10);
    } while (inFlight);
    const answered = await settled;
    const slowest = (times: number[]) => Math.max(...times).toFixed(1);
    t.diagnostic(`deliveries slowest ${slowest(answered.map(({ elapsedMs }) => elapsedMs))} ms; ${healthz.length} /healthz, slowest ${slowest(healthz)} ms`);
    for (const { reply, elapsedMs } of answered) {
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      assert.ok(elapsedMs < DELIVERY_BOUND_MS, `a delivery took ${elapsedMs.toFixed(0)} ms`);
    }
    for (const elapsedMs of healthz) assert.ok(elapsedMs < HEALTHZ_BOUND_MS, `/healthz took ${elapsedMs.toFixed(0)} ms`);
  });
});
