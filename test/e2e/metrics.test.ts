/**
 * Every metric the README documents is in GET /metrics after traffic that exercises it, with the
 * documented labels and the counts that traffic must produce.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { deliver, genericAlert, getJson, metricsText, post, sample, waitFor } from '../helpers/api-client.js';

const CONFIG = `
sources:
  edr:
    secret: "edr-secret"
  edr-async:
    secret: "async-secret"
    processing: async
  mail:
    secret: "mail-secret"
    auto_triage: true
    playbook: phishing_triage
`;

let runner: Server;
let service: ServiceUnderTest;
before(async () => {
  runner = createServer((request, response) => request.resume().on('end', () => response.writeHead(200).end('{}')));
  await new Promise<void>((listening) => runner.listen(0, '127.0.0.1', listening));
  service = await startInProcess({
    config: CONFIG,
    env: {
      TW_TRIAGE_URL: `http://127.0.0.1:${(runner.address() as AddressInfo).port}/triage`,
      TW_TRIAGE_SECRET: 'runner-secret',
      TW_TRIAGE_POLL_MS: '50',
      TW_QUEUE_POLL_MS: '50',
    },
  });
});
after(async () => {
  await service?.stop();
  runner?.close();
});

describe('GET /metrics after traffic', () => {
  it('has every documented metric with its labels and the counts of that traffic', async () => {
    const alert = genericAlert(randomUUID(), 'critical');
    assert.equal((await deliver(service.url, 'edr', 'edr-secret', alert)).status, 201);
    assert.equal((await deliver(service.url, 'edr', 'edr-secret', alert)).status, 200);
    assert.equal((await deliver(service.url, 'edr', 'wrong-secret', alert)).status, 401);
    assert.equal((await post(service.url, '/api/webhooks/nobody', '{}')).status, 404);
    const queued = await deliver(service.url, 'edr-async', 'async-secret', genericAlert(randomUUID()));
    assert.equal(queued.status, 202);
    const triaged = await deliver(service.url, 'mail', 'mail-secret', genericAlert(randomUUID(), 'low'));
    assert.equal(triaged.status, 201);
    // The background parts have done their share once the queue entry is done and the triage request dispatched.
    await waitFor(async () => (await getJson(service.url, `/api/queue/${queued.body.queue_id}`)).body.status === 'done', {
      message: 'the queued delivery to be processed',
    });
    await waitFor(async () => (await getJson(service.url, `/api/incidents/${triaged.body.incident_id}`)).body.triage.state === 'dispatched', {
      message: 'the triage request to be dispatched',
    });
    const text = await waitFor(
      async () => {
        const current = await metricsText(service.url);
        return sample(current, 'webhook_queue_depth') === 0 ? current : undefined;
      },
      { message: 'the queue depth gauge to drop to 0' },
    );

    assert.equal(sample(text, 'webhook_received_total', { source: 'edr' }), 3);
    assert.equal(sample(text, 'webhook_received_total', { source: '_unknown' }), 1);
    assert.equal(sample(text, 'webhook_errors_total', { source: 'edr', code: 'invalid_signature' }), 1);
    assert.equal(sample(text, 'webhook_errors_total', { source: '_unknown', code: 'unknown_source' }), 1);
    assert.equal(sample(text, 'webhook_request_duration_seconds_count', { source: 'edr', status_class: '2xx' }), 2);
    assert.equal(sample(text, 'webhook_request_duration_seconds_count', { source: 'edr', status_class: '4xx' }), 1);
    assert.ok(sample(text, 'webhook_request_duration_seconds_bucket', { source: 'edr', status_class: '2xx', le: '+Inf' }) === 2);
    assert.equal(sample(text, 'webhook_incidents_created_total', { source: 'edr', severity: 'critical' }), 1);
    assert.equal(sample(text, 'webhook_incidents_created_total', { source: 'mail', severity: 'low' }), 1);
    assert.equal(sample(text, 'webhook_duplicates_total', { source: 'edr' }), 1);
    assert.equal(sample(text, 'webhook_sources_registered'), 3);
    assert.equal(sample(text, 'webhook_queued_total', { source: 'edr-async', reason: 'async' }), 1);
    assert.equal(sample(text, 'webhook_queue_depth'), 0);
    assert.equal(sample(text, 'webhook_queue_processed_total', { outcome: 'done' }), 1);
    assert.equal(sample(text, 'triage_deliveries_total', { outcome: 'dispatched' }), 1);
    assert.equal(sample(text, 'webhook_delivery_log_dropped_total'), 0);
    // Only a second provider can claim a name already taken; with the file alone the family is declared, empty.
    assert.match(text, /^# TYPE webhook_source_conflicts_total counter$/m);
    assert.ok(sample(text, 'process_cpu_seconds_total')! > 0, 'Node process metrics');
    assert.doesNotMatch(text, /source="nobody"/, 'unregistered names stay out of the labels');
  });
});
