/**
 * Registered secrets at rest, against the real service process (embedded store) and the real
 * tw-cli: the key the embedded store makes for itself when TW_ENCRYPTION_KEY is not set, and a
 * wrong key failing readiness with one clear line instead of sources silently answering 404.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertOneFailureLine, runUntilExit, startService, type RunningService } from '../helpers/service.js';
import { assertError, deliver, genericAlert, getAnonymous, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { twCli } from '../helpers/cli.js';

const CONFIG = 'sources: {}\n';
const SECRET = 'siem-secret-4b3c2d1e0f9a8b7c';
const services: RunningService[] = [];
after(() => Promise.all(services.map((service) => service.stop())));

async function run(options: Parameters<typeof startService>[0]): Promise<RunningService> {
  const service = await startService(options);
  services.push(service);
  return service;
}

const message = (line: Record<string, unknown>) => String(line.msg);

describe("the embedded store's own key", () => {
  it('is made 0600 in the data directory on the first start and said so, so tw-cli webhook add works at once; later starts use it', async () => {
    const first = await run({ config: CONFIG });
    const made = await first.logged((line) => /generated an encryption key/.test(message(line)), 'the generated key');
    const keyFile = join(first.dataDir, 'encryption.key');
    assert.equal(made.path, keyFile);
    assert.equal(made.level, 30);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const keyText = readFileSync(keyFile, 'utf8');
    assert.match(keyText, /^[0-9a-f]{64}\n$/);
    assert.ok(!first.logs.some((line) => line.level === 40 && /TW_ENCRYPTION_KEY/.test(message(line))), 'no warning: the secrets are encrypted');

    const env = { TW_API_URL: first.url, TW_API_TOKEN: TEST_TOKEN };
    const added = await twCli(['webhook', 'add', 'siem', '--secret', '-'], env, `${SECRET}\n`);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await deliver(first.url, 'siem', SECRET, genericAlert('own-key-1'))).status, 201);
    await first.stop();
    for (const file of readdirSync(first.dataDir).filter((name) => name !== 'encryption.key')) {
      assert.equal(readFileSync(join(first.dataDir, file)).includes(SECRET), false, `${file} holds the secret in plain text`);
    }

    const second = await run({ config: CONFIG, dataDir: first.dataDir });
    await second.logged((line) => /encrypted with the key in the data directory/.test(message(line)), 'the key file being used');
    assert.equal(readFileSync(keyFile, 'utf8'), keyText, 'the key is kept, never made again');
    assert.equal((await deliver(second.url, 'siem', SECRET, genericAlert('own-key-2'))).status, 201);
  });
});

describe('a wrong key', () => {
  it('fails readiness with one clear line while the sources are not served, and the right key serves them again', async () => {
    const right = randomBytes(32).toString('base64');
    const first = await run({ config: CONFIG, env: { TW_ENCRYPTION_KEY: right } });
    const env = { TW_API_URL: first.url, TW_API_TOKEN: TEST_TOKEN };
    for (const name of ['siem', 'edr']) assert.equal((await twCli(['webhook', 'add', name, '--secret', '-'], env, SECRET)).code, 0);
    await first.stop();
    assert.equal(existsSync(join(first.dataDir, 'encryption.key')), false, 'a key that is set is the key: no file is made');

    const wrong = await run({ config: CONFIG, dataDir: first.dataDir, env: { TW_ENCRYPTION_KEY: randomBytes(32).toString('hex') } });
    const ready = await getAnonymous(wrong.url, '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.sources, false);
    assert.match(
      ready.body.sources_error,
      /^the encryption key opens none of the stored secrets \(2 of 2 registered sources\): it is not the key they were sealed with$/,
    );
    assertError(await deliver(wrong.url, 'siem', SECRET, genericAlert('wrong-key')), 404, 'unknown_source');
    // The provider re-reads every 2 s: after several rounds the fault is still one line.
    await sleep(5_000);
    const errors = wrong.logs.filter((line) => (line.level as number) >= 50);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(message(errors[0]!), /opens none of the stored secrets .*see docs\/security\.md/);
    assert.deepEqual(errors[0]!.sources, ['edr', 'siem']);
    assert.equal(JSON.stringify(wrong.logs).includes(SECRET), false);
    await wrong.stop();

    const again = await run({ config: CONFIG, dataDir: first.dataDir, env: { TW_ENCRYPTION_KEY: right } });
    await waitFor('readiness with the right key', async () => ((await getAnonymous(again.url, '/readyz')).status === 200 ? true : undefined));
    assert.equal((await deliver(again.url, 'siem', SECRET, genericAlert('right-key'))).status, 201);
  });

  it('a passphrase is not taken for a key: start-up stops, naming the variable and not the value', async () => {
    const exit = await runUntilExit({ TW_ENCRYPTION_KEY: 'correcthorsebatterystaplecorrecthorsebatter' });
    assertOneFailureLine(exit, /TW_ENCRYPTION_KEY must be 32 bytes written as 64 hex characters or 44 base64 characters/);
    assert.doesNotMatch(exit.stdout, /correcthorse/);
  });
});
