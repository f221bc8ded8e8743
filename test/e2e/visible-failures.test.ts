/**
 * What used to fail silently is visible: a config edit that cannot be applied (a metric and
 * /readyz, not only a log line), the triage backlog without a runner, and a PATCH of the severity
 * mapping that merges instead of replacing the map.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { deliver, genericAlert, metricsText, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { twCli } from '../helpers/cli.js';

const CONFIG = 'sources:\n  phish:\n    secret: "${PHISH_SECRET}"\n    auto_triage: true\n    playbook: phishing_triage\n';

describe('failures that used to be silent', () => {
  let service: ServiceUnderTest;
  const readyz = async () => (await (await fetch(`${service.url}/readyz`)).json()) as { status: string; config_error?: string };
  const gauge = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await metricsText(service.url))?.[1]);

  before(async () => {
    service = await startInProcess({ config: CONFIG, env: { PHISH_SECRET: 'phish-secret', TW_ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
  });
  after(() => service.stop());

  it('an edit naming a variable the service was not started with is rejected visibly; the variables it started with keep working', async () => {
    assert.equal(await gauge('webhook_config_reload_rejected'), 0);
    writeFileSync(service.configPath, `${CONFIG}  edr:\n    secret: "\${EDR_SECRET}"\n`);
    const rejected = await waitFor('the rejected edit in /readyz', async () => ((await readyz()).config_error ? readyz() : undefined));
    assert.equal(rejected.status, 'ready', 'the last good configuration still serves');
    assert.match(
      rejected.config_error!,
      /environment variable EDR_SECRET is not set \(variables come from the environment the service started with: set it and restart\)/,
    );
    assert.equal(await gauge('webhook_config_reload_rejected'), 1);
    assert.ok((await gauge('webhook_config_reload_rejections_total')) >= 1);
    assert.equal((await deliver(service.url, 'phish', 'phish-secret', genericAlert('still-served'))).status, 201);

    // An edit that only uses what was set at start applies, and clears the problem.
    writeFileSync(service.configPath, CONFIG.replace('auto_triage: true', 'auto_triage: true\n    rate_limit: { requests_per_second: 50 }'));
    await waitFor('the good edit to be served', async () => ((await readyz()).config_error === undefined ? true : undefined));
    assert.equal(await gauge('webhook_config_reload_rejected'), 0);
  });

  it('triage_outbox_pending counts the requests waiting although no runner is configured', async () => {
    assert.equal((await deliver(service.url, 'phish', 'phish-secret', genericAlert('waits-for-a-runner'))).status, 201);
    const pending = await waitFor(
      'the backlog gauge',
      async () => ((await gauge('triage_outbox_pending')) >= 2 ? gauge('triage_outbox_pending') : undefined),
      20_000,
    );
    assert.ok(pending >= 2, `triage_outbox_pending ${pending}`);
  });

  it('PATCH merges severity_mapping into the current map; a key set to null is removed', async () => {
    const env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
    assert.equal((await twCli(['webhook', 'add', 'siem', '--secret', 'siem-secret-0123456789', '--severity-map', 'p1=critical,p2=high'], env)).code, 0);
    const updated = await twCli(['webhook', 'update', 'siem', '--severity-map', 'p3=low,p1=', '-o', 'json'], env);
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual(JSON.parse(updated.stdout).severity_mapping, { p2: 'high', p3: 'low' });
  });
});
