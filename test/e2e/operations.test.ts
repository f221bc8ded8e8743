/**
 * Operating promises of the README: `npm start` works from the repo with the example config, config
 * edits are picked up without dropping requests, and slow senders are cut off.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, waitFor } from '../helpers/api-client.js';
import { childEnv } from '../helpers/child-env.js';

const REPO = resolve(import.meta.dirname, '../..');
const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.stop();
});

const post = async (url: string, source: string, secret: string, body: string) => (await deliver(url, source, secret, body)).status;

describe('npm start', () => {
  it('serves the example email-gateway source from the repo with no MongoDB and no cluster', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tw-start-'));
    const child = spawn('npm', ['start', '--silent'], {
      cwd: REPO,
      env: childEnv({ HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', TW_DATA_DIR: dataDir }),
      stdio: ['ignore', 'pipe', 'inherit'],
      // Its own process group, so that stopping it also stops the node process npm starts.
      detached: true,
    });
    try {
      const port = await new Promise<number>((done, fail) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.startsWith('{') && JSON.parse(line).msg === 'listening') done(JSON.parse(line).port);
        });
        child.once('exit', (code) => fail(new Error(`npm start exited with ${code}`)));
      });
      const status = await post(`http://127.0.0.1:${port}`, 'email-gateway', 'your-secret', '{"event_type":"test","data":{}}');
      assert.equal(status, 201);
    } finally {
      const exited = new Promise((done) => child.once('exit', done));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });
});

describe('config reload', () => {
  it('picks up a new source while requests to existing ones keep succeeding', async () => {
    const service = await startService({ config: 'sources:\n  edr:\n    secret: "edr-secret"\n' });
    services.push(service);
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++)
        statuses.push(await post(service.url, 'edr', 'edr-secret', JSON.stringify({ event_type: 'x', data: { alert_id: `r-${i}` } })));
    })();
    assert.equal(await post(service.url, 'siem', 'siem-secret', '{"event_type":"x"}'), 404);
    await waitFor(() => statuses.length >= 3, { message: 'traffic to flow before the edit' });
    // Written elsewhere and renamed in, as editors and ConfigMap updates do.
    const next = join(dirname(service.configPath), 'next.yaml');
    writeFileSync(next, 'sources:\n  edr:\n    secret: "edr-secret"\n  siem:\n    secret: "siem-secret"\n');
    renameSync(next, service.configPath);
    const siem = await waitFor(
      async () => {
        const status = await post(service.url, 'siem', 'siem-secret', JSON.stringify({ event_type: 'x', data: { alert_id: randomUUID() } }));
        return status === 404 ? undefined : status;
      },
      { timeoutMs: 20_000, message: 'the new source to be served' },
    );
    const atReload = statuses.length;
    await waitFor(() => statuses.length >= atReload + 3, { message: 'traffic to go on after the reload' });
    stop = true;
    await traffic;
    assert.equal(siem, 201);
    assert.deepEqual([...new Set(statuses)], [201]);
  });

  it('keeps serving the last good set when an edit is invalid', async () => {
    const service = await startService({ config: 'sources:\n  edr:\n    secret: "edr-secret"\n' });
    services.push(service);
    writeFileSync(service.configPath, 'sources:\n  edr:\n    secret: "${UNSET_VARIABLE_FOR_TEST}"\n');
    // The rejection in the log is the sign the edit was read; only then does the next answer tell.
    await service.logged((entry) => JSON.stringify(entry).includes('UNSET_VARIABLE_FOR_TEST'), 'the rejected edit', 20_000);
    assert.equal(await post(service.url, 'edr', 'edr-secret', '{"event_type":"still-good"}'), 201);
  });
});

describe('slow senders', () => {
  it('are cut off after the request timeout', async () => {
    const service = await startService({
      config: 'sources:\n  edr:\n    secret: "edr-secret"\n',
      env: { TW_HEADERS_TIMEOUT_MS: '500', TW_REQUEST_TIMEOUT_MS: '1000' },
    });
    services.push(service);
    const { port } = new URL(service.url);
    const started = Date.now();
    const response = await new Promise<string>((done, fail) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        // Headers promise 100 bytes; the body never comes.
        socket.write('POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":');
      });
      let text = '';
      socket.on('data', (chunk) => (text += String(chunk)));
      socket.on('close', () => done(text));
      socket.on('error', fail);
    });
    const elapsed = Date.now() - started;
    assert.match(response, /^HTTP\/1\.1 408/);
    assert.ok(elapsed >= 900 && elapsed < 5000, `cut off after ${elapsed} ms`);
  });

  it('fail start-up when the config names an unset variable', async () => {
    await assert.rejects(startService({ config: 'sources:\n  edr:\n    secret: "${EDR_SECRET_NOT_SET}"\n' }), /EDR_SECRET_NOT_SET/);
  });
});
