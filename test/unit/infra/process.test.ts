import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryOnce, startDetached, waitForServer } from '../../infra/process.js';

describe('test servers that fail to start', () => {
  it('say how the process ended and show the last lines of its log', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'tw-infra-')), 'server.log');
    const server = startDetached('fake-server', '/bin/sh', ['-c', 'echo "bind: address already in use" >&2; exit 3'], log);
    await assert.rejects(
      waitForServer(server, async () => false, 10_000),
      (error: Error) => /fake-server exited during start-up \(exit code 3\)/.test(error.message) && /bind: address already in use/.test(error.message),
    );
  });

  it('say so when the log is empty', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'tw-infra-')), 'server.log');
    const server = startDetached('silent-server', '/bin/sh', ['-c', 'kill -9 $$'], log);
    await assert.rejects(
      waitForServer(server, async () => false, 10_000),
      /\(killed by SIGKILL\).*\n\(the log is empty\)/,
    );
  });

  it('are retried once, and both failures are reported when the retry fails too', async () => {
    let attempts = 0;
    assert.equal(await retryOnce('flaky', async () => (++attempts === 1 ? Promise.reject(new Error('port taken')) : 'up')), 'up');
    assert.equal(attempts, 2);
    let calls = 0;
    await assert.rejects(
      retryOnce('broken', async () => Promise.reject(new Error(`attempt ${++calls} went wrong`))),
      (error: Error) =>
        /broken failed to start twice/.test(error.message) && /attempt 1 went wrong/.test(error.message) && /attempt 2 went wrong/.test(error.message),
    );
    assert.equal(calls, 2);
  });
});
