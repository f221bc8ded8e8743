/**
 * A source's CEL filter behaves the same whichever way the source is declared: in
 * webhook_config.yaml, through the registration API, or as a WebhookSource on the real
 * kube-apiserver (the service in Kubernetes mode). Signed events over real HTTP are filtered out
 * (200 filtered, counted, in the delivery log, not stored), re-rated and labelled alike; a bad
 * expression is a start-up error for the file, a 400 for the API and Ready=False InvalidFilter for
 * a WebhookSource, each with the compiler's message; an expression past the cost bound is refused
 * with its reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { deliver, getJson, metricsText, request, sample, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { apply, condition, getWebhookSource, installCrd, kubernetesEnv, secret, webhookSource } from '../helpers/kube-sources.js';
import { createTestNamespace, needs } from '../helpers/servers.js';
import { assertOneFailureLine, runUntilExit, startService, type RunningService } from '../helpers/service.js';

await needs('kube');

const FILTER = {
  match: 'payload.data.severity != "low"',
  severity: 'payload.data.score > 90.0 ? "critical" : incident.severity',
  labels: { team: 'payload.data.team', host: 'incident.observables.hosts[0]' },
};
const SECRET = 'filter-secret-0123456789';
/** Re-reads the payload inside a macro over it: quadratic in the payload, so refused. */
const QUADRATIC = 'payload.data.items.exists(i, payload.data.items.exists(j, i.id == j.parent))';
const QUADRATIC_REASON =
  'a macro over the payload reads payload again, which costs the payload size for each of its elements: reach it through the macro variable';

let namespace: string;
let service: RunningService;

before(async () => {
  await installCrd();
  namespace = await createTestNamespace();
  const config = stringify({ sources: { 'from-file': { secret: SECRET, filter: FILTER }, queued: { secret: SECRET, processing: 'async', filter: FILTER } } });
  service = await startService({ config, env: kubernetesEnv(namespace) });
  await waitFor('the service to be ready', async () => ((await fetch(`${service.url}/readyz`)).ok ? true : undefined), 30_000);
  const registered = await register({ source: 'from-api', secret: SECRET, filter: FILTER });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  await apply([
    secret(namespace, 'from-cluster', { secret: SECRET }),
    webhookSource(namespace, 'from-cluster', { secretRef: { name: 'from-cluster' }, filter: FILTER }),
  ]);
  for (const source of SOURCES) {
    await waitFor(
      `${source} served`,
      async () => ((await deliver(service.url, source, SECRET, event('probe', 'low'))).status === 200 ? true : undefined),
      20_000,
      200,
    );
  }
});
after(async () => {
  await service?.stop();
});

const SOURCES = ['from-file', 'from-api', 'from-cluster'] as const;

const register = (body: object) =>
  request(service.url, '/api/webhooks', {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

function event(id: string, severity: string, data: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event_type: 'security_alert',
    timestamp: '2026-01-15T10:00:00Z',
    data: { alert_id: id, severity, ...data, details: { host: 'ws-1' } },
  });
}

/** What each source answered, with the incident it stored (ids left out, so the three compare equal). */
async function sendToEach(body: (source: string) => string) {
  const answers = [];
  for (const source of SOURCES) {
    const reply = await deliver(service.url, source, SECRET, body(source));
    const incident = reply.body.incident_id ? (await getJson(service.url, `/api/incidents/${reply.body.incident_id}`)).body : undefined;
    answers.push({ status: reply.status, body: reply.body.status, severity: incident?.severity, labels: incident?.labels });
  }
  return answers;
}

describe('the same filter from the file, the API and a WebhookSource', () => {
  it('filters out the same events: 200 filtered, counted per source, logged with code filtered, never stored', async () => {
    const before = await metricsText(service.url);
    const answers = await sendToEach((source) => event(`low-${source}`, 'low'));
    assert.deepEqual(
      answers,
      SOURCES.map(() => ({ status: 200, body: 'filtered', severity: undefined, labels: undefined })),
    );
    const after = await metricsText(service.url);
    for (const source of SOURCES) {
      assert.equal((sample(after, 'webhook_filtered_total', { source }) ?? 0) - (sample(before, 'webhook_filtered_total', { source }) ?? 0), 1, source);
    }
    const stored = (await getJson(service.url, '/api/incidents?limit=500')).body.items as { source: string }[];
    assert.deepEqual(
      stored.filter((incident) => (SOURCES as readonly string[]).includes(incident.source)),
      [],
      'nothing filtered is stored',
    );
    await waitFor('the delivery log', async () => {
      const deliveries = (await getJson(service.url, '/api/deliveries?limit=100')).body.items as { source: string; status: number; code: string }[];
      return SOURCES.every((source) => deliveries.some((record) => record.source === source && record.status === 200 && record.code === 'filtered'))
        ? true
        : undefined;
    });
  });

  it('sets the same severity and labels, from the payload and the normalized incident', async () => {
    const answers = await sendToEach((source) => event(`hot-${source}`, 'high', { score: 95, team: 'blue' }));
    assert.deepEqual(
      answers,
      SOURCES.map(() => ({ status: 201, body: 'accepted', severity: 'critical', labels: { team: 'blue', host: 'ws-1' } })),
    );
    const cool = await sendToEach((source) => event(`cool-${source}`, 'medium', { score: 10, team: 'red' }));
    assert.deepEqual(
      cool,
      SOURCES.map(() => ({ status: 201, body: 'accepted', severity: 'medium', labels: { team: 'red', host: 'ws-1' } })),
    );
  });

  it('keeps an event its expressions cannot evaluate, unchanged by them, and counts the errors', async () => {
    const before = await metricsText(service.url);
    const answers = await sendToEach((source) => JSON.stringify({ event_type: 'heartbeat', id: `odd-${source}`, severity: 'low' }));
    assert.deepEqual(
      answers,
      SOURCES.map(() => ({ status: 201, body: 'accepted', severity: 'low', labels: {} })),
    );
    const after = await metricsText(service.url);
    for (const source of SOURCES) {
      // match, severity, both labels: four expressions found no `data`, or no host.
      assert.equal(
        (sample(after, 'webhook_filter_errors_total', { source }) ?? 0) - (sample(before, 'webhook_filter_errors_total', { source }) ?? 0),
        4,
        source,
      );
    }
  });

  it('filters a queued delivery when it is processed: 202 to the sender, the entry done without an incident', async () => {
    const before = sample(await metricsText(service.url), 'webhook_filtered_total', { source: 'queued' }) ?? 0;
    const low = await deliver(service.url, 'queued', SECRET, event('queued-low', 'low'));
    assert.equal(low.status, 202);
    const entry = await waitFor('the entry done', async () => {
      const reply = await getJson(service.url, `/api/queue/${low.body.queue_id}`);
      return reply.body.status === 'done' ? reply.body : undefined;
    });
    assert.equal(entry.incident_id, null);
    assert.equal(sample(await metricsText(service.url), 'webhook_filtered_total', { source: 'queued' }), before + 1);
    const high = await deliver(service.url, 'queued', SECRET, event('queued-high', 'high', { score: 99, team: 'blue' }));
    const stored = await waitFor('the incident', async () => {
      const reply = await getJson(service.url, `/api/queue/${high.body.queue_id}`);
      return reply.body.incident_id ? (await getJson(service.url, `/api/incidents/${reply.body.incident_id}`)).body : undefined;
    });
    assert.equal(stored.severity, 'critical');
    assert.deepEqual(stored.labels, { team: 'blue', host: 'ws-1' });
  });

  it('shows the filter as declared in GET /api/webhooks/:source', async () => {
    for (const source of SOURCES) assert.deepEqual((await getJson(service.url, `/api/webhooks/${source}`)).body.filter, FILTER, source);
  });
});

describe('a bad expression, in each', () => {
  it('is a start-up error for the file, naming the source, the expression and the compiler message', async () => {
    const config = stringify({ sources: { edr: { secret: 's', filter: { match: 'payload.(', labels: { team: QUADRATIC } } } } });
    const failure = assertOneFailureLine(await runUntilExit({}, config), /sources\.edr\.filter\.match: 1:8: found \. but expecting end of input/);
    assert.ok(String(failure.msg).includes(`sources.edr.filter.labels.team: ${QUADRATIC_REASON}`), failure.msg);
  });

  it('is a 400 for the API, with the message, and the source is not registered', async () => {
    const bad = await register({ source: 'bad-api', secret: SECRET, filter: { match: 'payload.severity == ', severity: 'lowerAscii(incident.severity)' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'bad_request');
    assert.equal(bad.body.error.message, "filter.match: 1:18: found = but expecting end of input; filter.severity: unknown function 'lowerAscii'");
    const costly = await register({ source: 'costly-api', secret: SECRET, filter: { match: QUADRATIC } });
    assert.equal(costly.status, 400);
    assert.equal(costly.body.error.message, `filter.match: ${QUADRATIC_REASON}`);
    const estimated = await register({
      source: 'costly-api',
      secret: SECRET,
      filter: { match: 'incident.observables.hosts.exists(h, h in payload.allowlist)' },
    });
    assert.equal(estimated.status, 400);
    assert.equal(estimated.body.error.message, "filter.match: the expression's estimated cost is 100 steps per value of the payload, more than 64");
    assert.equal((await getJson(service.url, '/api/webhooks/bad-api')).status, 404);
  });

  it('is Ready=False InvalidFilter with the message for a WebhookSource, which serves nothing', async () => {
    await apply([
      secret(namespace, 'bad-cluster', { secret: SECRET }),
      webhookSource(namespace, 'bad-cluster', { secretRef: { name: 'bad-cluster' }, filter: { match: 'payload.data.severity = "low"' } }),
      webhookSource(namespace, 'costly-cluster', { secretRef: { name: 'bad-cluster' }, filter: { labels: { team: QUADRATIC } } }),
    ]);
    const ready = (name: string) =>
      waitFor(`${name} Ready=False InvalidFilter`, async () => {
        const found = condition(await getWebhookSource(namespace, name), 'Ready');
        return found?.reason === 'InvalidFilter' ? found : undefined;
      });
    const bad = await ready('bad-cluster');
    assert.equal(bad.status, 'False');
    assert.match(bad.message, /^spec\.filter\.match: 1:23: /);
    const costly = await ready('costly-cluster');
    assert.equal(costly.message, `spec.filter.labels.team: ${QUADRATIC_REASON}`);
    assert.equal((await deliver(service.url, 'bad-cluster', SECRET, event('x', 'high'))).body.error.code, 'unknown_source');
  });
});
