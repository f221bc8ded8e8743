/**
 * /readyz over real HTTP for the states the service process cannot be driven into from outside,
 * with the real app, registry, file provider and embedded store wired as src/start.ts wires them:
 * - sources not loaded yet: the process only listens after its providers' first load, so the
 *   window exists only in-process (and for providers that sync later, like a cluster's);
 * - the store thread dying: no request can crash a healthy SQLite thread, so the thread is ended
 *   the way a crash would end it (Worker.terminate), as in store-embedded.test.ts.
 * A database down at start-up is tested against the real process in e2e/lifecycle.test.ts.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockList, type AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { createApp, routeHandlers } from '../../src/http/app.js';
import { servedOn } from '../../src/http/routes.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { SourceRegistry } from '../../src/sources/registry.js';
import { FileSourceProvider } from '../../src/providers/file.js';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { createIngest } from '../../src/ingest/ingest.js';
import { createAccept } from '../../src/ingest/accept.js';
import { SenderLimits } from '../../src/http/sender-limits.js';
import { BodyBudget } from '../../src/http/body-budget.js';
import { loadLimitSettings } from '../../src/config/limit-settings.js';
import { Drain } from '../../src/http/drain.js';
import { deliver, genericAlert, getAnonymous, waitFor } from '../helpers/api-client.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function serve(): Promise<{ url: string; registry: SourceRegistry; store: EmbeddedStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-ready-'));
  const configPath = join(dir, 'webhook_config.yaml');
  writeFileSync(configPath, 'sources:\n  edr:\n    secret: "edr-secret"\n');
  const logger = createLogger('silent');
  const store = new EmbeddedStore(join(dir, 'data'), { restartDelayMs: 100 });
  await store.open();
  const registry = new SourceRegistry([new FileSourceProvider({ path: configPath, env: {}, logger })]);
  const limits = loadLimitSettings({});
  const metrics = createMetrics();
  const trustedProxies = new BlockList();
  const drain = new Drain();
  // The receiver's listener: the probes and the receiver are what this test is about.
  const handlers = routeHandlers({
    logger,
    metrics,
    sources: registry,
    store,
    trustedProxies,
    drain,
    receiver: {
      accept: createAccept({ ingest: createIngest(store), inbox: store.inbox, inlineBudgetMs: 2000 }),
      limits: new SenderLimits(limits.senders),
      bodies: { budget: new BodyBudget(limits.maxBodyBytesInFlight), discard: limits.discard },
    },
  });
  const app = createApp({ handlers, serves: (row) => servedOn(row.plane, 'receiver', 'all'), logger, metrics, trustedProxies, drain });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own errors: the promise never rejects
  const server: Server = createServer(app.callback());
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  cleanups.push(
    () => new Promise((closed) => server.close(closed)),
    () => registry.stop(),
    () => store.close(),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, registry, store };
}

describe('/readyz', () => {
  it('is 503 until the sources are loaded, then 200', async () => {
    const { url, registry } = await serve();
    const before = await getAnonymous(url, '/readyz');
    assert.equal(before.status, 503);
    assert.deepEqual(before.body, { status: 'not_ready', checks: { sources: false, store: true } });
    assert.equal((await getAnonymous(url, '/healthz')).status, 200, 'alive while not ready');

    await registry.start();
    const ready = await getAnonymous(url, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { sources: true, store: true } });
    assert.equal((await deliver(url, 'edr', 'edr-secret', genericAlert('ready-1'))).status, 201);
  });

  it('is 503 while the store thread is dead and 200 again once it is back', async () => {
    const { url, registry, store } = await serve();
    await registry.start();
    assert.equal((await getAnonymous(url, '/readyz')).status, 200);

    await (store as unknown as { thread: Worker }).thread.terminate();
    const down = await getAnonymous(url, '/readyz');
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, { status: 'not_ready', checks: { sources: true, store: false }, store_error: 'embedded store thread is restarting' });
    const refused = await deliver(url, 'edr', 'edr-secret', genericAlert('while-down'));
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'unavailable');

    await waitFor(async () => (await getAnonymous(url, '/readyz')).status === 200, { timeoutMs: 10_000, message: 'the store thread to be restarted' });
    assert.equal((await deliver(url, 'edr', 'edr-secret', genericAlert('while-down'))).status, 201);
  });
});
