/**
 * Start-up as a user meets it, against the real `dist/main.js`: every failure is one JSON log line
 * at fatal level and exit code 1 (no stack trace, nothing on stderr); what is probably a mistake
 * is a warning; accepted events are logged at info.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneFailureLine, runUntilExit, startService, type RunningService } from '../helpers/service.js';
import { deliver, genericAlert, waitFor } from '../helpers/api-client.js';

const GOOD_CONFIG = 'sources:\n  edr:\n    secret: "edr-secret-0123456789"\n';

describe('start-up failures: one JSON line, exit code 1', () => {
  const holders: Server[] = [];
  after(() => holders.forEach((server) => server.close()));

  it('a config file that does not validate (and the store is not opened)', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tw-start-')), 'never-created');
    const exit = await runUntilExit({ TW_DATA_DIR: dataDir }, 'sources:\n  edr:\n    secrt: "x"\n');
    assertOneFailureLine(exit, /unknown key 'secrt'/);
    assert.equal(existsSync(dataDir), false, 'config is validated before the store is opened');
  });

  it('a config file that is not YAML', async () => {
    assertOneFailureLine(await runUntilExit({}, 'sources: [\n'), /webhook_config\.yaml/);
  });

  it('an unset ${VAR} in the config', async () => {
    assertOneFailureLine(await runUntilExit({}, 'sources:\n  edr:\n    secret: "${TW_TEST_UNSET_SECRET}"\n'), /TW_TEST_UNSET_SECRET is not set/);
  });

  it('TW_CONFIG naming a file that does not exist', async () => {
    assertOneFailureLine(await runUntilExit({ TW_CONFIG: '/nonexistent/webhook_config.yaml' }), /file not found/);
  });

  it('a bad setting', async () => {
    assertOneFailureLine(await runUntilExit({ PORT: 'eighty' }), /PORT must be an integer/);
    assertOneFailureLine(await runUntilExit({ TW_TRUSTED_PROXIES: '10.0.0.0/40' }), /TW_TRUSTED_PROXIES/);
  });

  it('a bootstrap API key shorter than 16 bytes, without showing it', async () => {
    const exit = await runUntilExit({ TW_API_TOKEN: 'tw_long_enough_0123456789, tw_short' });
    assertOneFailureLine(exit, /TW_API_TOKEN: every key must be at least 16 bytes \(1 of 2 shorter\)/);
    assert.doesNotMatch(exit.stdout, /tw_short|tw_long_enough/);
  });

  it('the planes apart on the embedded store, a receiver without its listener, a control plane with one', async () => {
    assertOneFailureLine(
      await runUntilExit({ TW_MODE: 'receiver', TW_RECEIVER_PORT: '0' }),
      /TW_MODE=receiver needs MongoDB \(MONGODB_URI\): the embedded store has one writer/,
    );
    assertOneFailureLine(await runUntilExit({ TW_MODE: 'control' }), /TW_MODE=control needs MongoDB/);
    const mongo = { MONGODB_URI: 'mongodb://127.0.0.1:9/never-contacted' };
    assertOneFailureLine(await runUntilExit({ ...mongo, TW_MODE: 'receiver' }), /TW_MODE=receiver needs TW_RECEIVER_PORT/);
    assertOneFailureLine(await runUntilExit({ ...mongo, TW_MODE: 'control', TW_RECEIVER_PORT: '8081' }), /TW_MODE=control serves no receiver/);
    assertOneFailureLine(await runUntilExit({ PORT: '18080', TW_RECEIVER_PORT: '18080' }), /TW_RECEIVER_PORT \(18080\) must differ from PORT/);
  });

  it('the port is in use', async () => {
    const holder = createServer();
    holders.push(holder);
    await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
    const port = (holder.address() as { port: number }).port;
    assertOneFailureLine(await runUntilExit({ PORT: String(port) }), new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
  });

  it('the store cannot open: TW_DATA_DIR is a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tw-start-')), 'a-file');
    writeFileSync(file, 'not a directory');
    assertOneFailureLine(await runUntilExit({ TW_DATA_DIR: file }), /the store cannot be opened: .*a-file/);
    assertOneFailureLine(await runUntilExit({ TW_DATA_DIR: join(file, 'below') }), /the store cannot be opened/);
  });
});

describe('start-up warnings and the accepted-event line', () => {
  const services: RunningService[] = [];
  after(() => Promise.all(services.map((service) => service.stop())));

  const warnings = (service: RunningService) => service.logs.filter((line) => line.level === 40).map((line) => String(line.msg));
  /** Start-up warnings follow `listening` at once: a line logged later proves all of them were read. */
  const startupLogged = (service: RunningService) =>
    waitFor('a log line after the start-up warnings', async () => {
      const probe = await fetch(`${service.url}/api/webhooks/not-a-source`, { method: 'POST', body: '{}' });
      assert.equal(probe.status, 404);
      return service.logs.find((line) => line.code === 'unknown_source') ? true : undefined;
    });

  it('no API key, auto_triage without a triage runner', async () => {
    const service = await startService({
      config: 'sources:\n  mail:\n    secret: "mail-secret"\n    auto_triage: true\n    playbook: phishing_triage\n  edr:\n    secret: "edr-secret"\n',
      env: { TW_API_TOKEN: '' },
    });
    services.push(service);
    await startupLogged(service);
    const said = warnings(service).filter((msg) => !/not registered/.test(msg));
    assert.ok(
      said.some((msg) => /no API key configured \(TW_API_TOKEN\)/.test(msg)),
      said.join('\n'),
    );
    const triage = service.logs.find((line) => /auto_triage sources but no triage runner/.test(String(line.msg)));
    assert.deepEqual(triage?.sources, ['mail']);
    const weak = service.logs.find((line) => /webhook sources with a secret shorter than 16 bytes/.test(String(line.msg)));
    assert.deepEqual([...(weak?.sources as string[])].sort(), ['edr', 'mail'], 'declared secrets are warned about, not refused');
    assert.ok(!said.some((msg) => /no webhook source/.test(msg)));

    const reply = await deliver(service.url, 'edr', 'edr-secret', genericAlert('logged-1'));
    assert.equal(reply.status, 201);
    const line = await waitFor('the accepted event to be logged', async () =>
      service.logs.find((entry) => entry.msg === 'incident created' && entry.incident === reply.body.incident_number),
    );
    assert.equal(line.level, 30);
    assert.equal(line.source, 'edr');
  });

  it('no source registered; a complete setup warns about nothing', async () => {
    const empty = await startService({ config: 'sources: {}\n' });
    services.push(empty);
    await startupLogged(empty);
    assert.deepEqual(warnings(empty).filter((msg) => /no webhook source is registered/.test(msg)).length, 1);
    assert.deepEqual(
      warnings(empty).filter((msg) => /TW_ENCRYPTION_KEY/.test(msg)),
      [],
      'the embedded store makes its own key: nothing to warn about',
    );
    const complete = await startService({ config: GOOD_CONFIG, env: { TW_ENCRYPTION_KEY: 'ab'.repeat(32) } });
    services.push(complete);
    await startupLogged(complete);
    assert.deepEqual(
      warnings(complete).filter((msg) => !/not registered/.test(msg)),
      [],
    );
  });
});
