/**
 * The API server goes away mid-watch and comes back, under load: senders keep delivering to a
 * source the whole time and every delivery is answered 201 and readable afterwards, and once the
 * API server is back, changes made after it are served and status catches up. This test runs its
 * own kube-apiserver and etcd (test/infra/kube.ts) so stopping them disturbs no other test.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { kubeAssets, startKube } from '../infra/kube.js';
import { startDetached, stopServer, type ServerProcess } from '../infra/process.js';
import type { Started } from '../infra/state.js';
import { allIncidents, deliver, genericAlert, waitFor, type Reply } from '../helpers/api-client.js';
import { randomUUID } from 'node:crypto';
import {
  NO_FILE_SOURCES,
  apply,
  condition,
  getWebhookSource,
  installCrd,
  kubectl,
  kubernetesEnv,
  secret,
  sendSigned,
  webhookSource,
} from '../helpers/kube-sources.js';
import { startService, type RunningService } from '../helpers/service.js';
import { needs } from '../helpers/servers.js';

await needs('kube');

let kube: Started;
let kubeconfig: string;
let service: RunningService | undefined;
const namespace = 'tw-outage';

before(async () => {
  kube = await startKube(await kubeAssets());
  kubeconfig = kube.env.KUBECONFIG!;
});
after(async () => {
  await service?.stop();
  for (const server of [...kube.servers].reverse()) await stopServer(server);
  if (kube.workDir) rmSync(kube.workDir, { recursive: true, force: true });
});

/** The same kube-apiserver again: same binary, flags, port and certificates. */
function restartApiserver(stopped: ServerProcess, argv: string[]): ServerProcess {
  const restarted = startDetached(stopped.name, stopped.binary, argv, stopped.logFile);
  kube.servers[kube.servers.indexOf(stopped)] = restarted;
  return restarted;
}

describe('an API-server outage', () => {
  it('keeps accepting every webhook under load while it is down and back, then serves the changes made after it and catches status up', async () => {
    await installCrd(kubeconfig);
    await kubectl(['create', 'namespace', namespace], { kubeconfig });
    await apply(
      [
        secret(namespace, 'steady', { secret: 'steady-key' }),
        webhookSource(namespace, 'steady', { secretRef: { name: 'steady' } }),
        secret(namespace, 'load', { secret: 'load-key' }),
        webhookSource(namespace, 'load', { secretRef: { name: 'load' } }),
      ],
      kubeconfig,
    );
    service = await startService({ config: NO_FILE_SOURCES, env: kubernetesEnv(namespace, { KUBECONFIG: kubeconfig }) });
    const running = service;
    await waitFor('steady served', async () => ((await sendSigned(running.url, 'steady', 'steady-key')).status === 201 ? true : undefined), 30_000);
    await waitFor('steady Ready', async () =>
      condition(await getWebhookSource(namespace, 'steady', kubeconfig), 'Ready')?.status === 'True' ? true : undefined,
    );

    await waitFor('load served', async () => ((await sendSigned(running.url, 'load', 'load-key')).status === 201 ? true : undefined), 30_000);

    // Load from before the outage until after the changes that follow it.
    const load: { reply?: Reply; error?: string }[] = [];
    let loading = true;
    const senders = Array.from({ length: 4 }, async () => {
      while (loading) {
        try {
          load.push({ reply: await deliver(running.url, 'load', 'load-key', genericAlert(randomUUID())) });
        } catch (error) {
          load.push({ error: String((error as { cause?: unknown }).cause ?? error) });
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });

    const apiserver = kube.servers.find((server) => server.name === 'kube-apiserver')!;
    const argv = readFileSync(`/proc/${apiserver.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1);
    await stopServer(apiserver);

    // Down: webhooks keep being accepted, and the service stays ready.
    const outageStarted = Date.now();
    let accepted = 0;
    while (Date.now() - outageStarted < 8_000) {
      const reply = await sendSigned(running.url, 'steady', 'steady-key');
      assert.equal(reply.status, 201, `during the outage: ${JSON.stringify(reply)}`);
      accepted += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
    const logs = running.logs.filter((entry) => entry.msg === 'informer list/watch failed: serving the cached objects, retrying');
    assert.ok(logs.length > 0, 'the informers noticed the outage');

    restartApiserver(apiserver, argv);
    await waitFor(
      'the API server back',
      async () => ((await kubectl(['get', '--raw', '/readyz'], { kubeconfig })).trim() === 'ok' ? true : undefined),
      120_000,
      500,
    );
    const back = Date.now();
    await apply([secret(namespace, 'after', { secret: 'after-key' }), webhookSource(namespace, 'after', { secretRef: { name: 'after' } })], kubeconfig);
    await kubectl(['patch', 'whs', 'steady', '-n', namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}'], { kubeconfig });
    await waitFor('the new source served', async () => ((await sendSigned(running.url, 'after', 'after-key')).status === 201 ? true : undefined), 30_000);
    await waitFor(
      'the suspend applied',
      async () => ((await sendSigned(running.url, 'steady', 'steady-key')).code === 'unknown_source' ? true : undefined),
      30_000,
    );
    await waitFor(
      'status written again',
      async () => (condition(await getWebhookSource(namespace, 'after', kubeconfig), 'Ready')?.status === 'True' ? true : undefined),
      30_000,
    );
    await waitFor(
      'the suspend in status',
      async () => (condition(await getWebhookSource(namespace, 'steady', kubeconfig), 'Ready')?.status === 'False' ? true : undefined),
      30_000,
    );
    loading = false;
    await Promise.all(senders);

    const refused = load.filter(({ reply }) => reply?.status !== 201);
    assert.deepEqual(
      refused.map(({ reply, error }) => error ?? `${reply!.status} ${JSON.stringify(reply!.body)}`),
      [],
      'every delivery under load answered 201',
    );
    const stored = new Map((await allIncidents(running.url, 'source=load')).map((incident) => [incident.incident_id, incident.incident_number]));
    for (const { reply } of load) assert.equal(stored.get(reply!.body.incident_id), reply!.body.incident_number, 'acknowledged and readable');
    console.log(
      `outage: ${accepted} webhooks accepted one by one and ${load.length} under load while the API server was down and back; changes after it live in ${Date.now() - back} ms`,
    );
  });
});
