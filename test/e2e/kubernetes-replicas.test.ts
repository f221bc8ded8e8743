/**
 * Two replicas against one cluster: both serve every source, one leader writes status, and the
 * Lease hands leadership over when the leader dies (kill -9) or stops (released at once).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { waitFor } from '../helpers/api-client.js';
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
import { createTestNamespace, needs } from '../helpers/servers.js';
import { startService, type RunningService } from '../helpers/service.js';

await needs('kube');

const LEASE_SECONDS = 4;
const RETRY_SECONDS = 1;
const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.stop();
});

async function replica(namespace: string, podName: string): Promise<RunningService> {
  const service = await startService({ config: NO_FILE_SOURCES, env: kubernetesEnv(namespace, { TW_POD_NAME: podName }) });
  services.push(service);
  return service;
}

async function leaseHolder(namespace: string): Promise<{ holder: string; transitions: number; renewTime: string } | undefined> {
  try {
    const lease = JSON.parse(await kubectl(['get', 'lease', 'tw-webhooks-leader', '-n', namespace, '-o', 'json'])) as {
      spec: { holderIdentity?: string; leaseTransitions?: number; renewTime: string };
    };
    return lease.spec.holderIdentity
      ? { holder: lease.spec.holderIdentity, transitions: lease.spec.leaseTransitions ?? 0, renewTime: lease.spec.renewTime }
      : undefined;
  } catch {
    return undefined;
  }
}

async function isLeader(service: RunningService): Promise<boolean> {
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  return /^tw_controller_leader 1$/m.test(metrics);
}

describe('two replicas', () => {
  it('serve webhooks on both, let one leader write status, and hand over within the lease after kill -9', async () => {
    await installCrd();
    const namespace = await createTestNamespace();
    const a = await replica(namespace, 'replica-a');
    const b = await replica(namespace, 'replica-b');
    const first = await waitFor('a leader', () => leaseHolder(namespace));
    assert.match(first.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime with microseconds');
    const [leader, follower] = first.holder === 'replica-a' ? [a, b] : [b, a];
    const followerName = first.holder === 'replica-a' ? 'replica-b' : 'replica-a';
    assert.equal(await isLeader(leader), true);
    assert.equal(await isLeader(follower), false);

    await apply([secret(namespace, 'shared', { secret: 'k' }), webhookSource(namespace, 'shared', { secretRef: { name: 'shared' } })]);
    for (const service of [a, b]) {
      await waitFor('both replicas serving', async () => ((await sendSigned(service.url, 'shared', 'k')).status === 201 ? true : undefined));
    }
    await waitFor('Ready', async () => (condition(await getWebhookSource(namespace, 'shared'), 'Ready')?.status === 'True' ? true : undefined));
    const events = JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])) as { items: { reportingInstance: string }[] };
    assert.ok(events.items.length > 0);
    assert.deepEqual([...new Set(events.items.map((event) => event.reportingInstance))], [first.holder], 'only the leader reports');

    // The follower keeps serving throughout the handover.
    let failures = 0;
    let sent = 0;
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        sent += 1;
        if ((await sendSigned(follower.url, 'shared', 'k')).status !== 201) failures += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const killed = Date.now();
    await leader.kill9();
    const next = await waitFor(
      'the follower to take over',
      async () => {
        const holder = await leaseHolder(namespace);
        return holder?.holder === followerName ? holder : undefined;
      },
      20_000,
      100,
    );
    const handoverMs = Date.now() - killed;
    console.log(`leader kill -9 → new leader: ${handoverMs} ms (lease ${LEASE_SECONDS} s, retry ${RETRY_SECONDS} s)`);
    // client-go's bound: the lease runs out a duration after the last renewal the follower saw, plus one (jittered) retry.
    assert.ok(handoverMs <= (LEASE_SECONDS + 2 * RETRY_SECONDS) * 1000, `handover took ${handoverMs} ms`);
    assert.equal(next.transitions, first.transitions + 1);
    await waitFor('the new leader to report it', async () => ((await isLeader(follower)) ? true : undefined));
    sending = false;
    await traffic;
    assert.ok(sent > 10, `${sent} requests sent during the handover`);
    assert.equal(failures, 0, 'the surviving replica answered 201 throughout');

    // The new leader reconciles: a change made after the handover gets its status.
    await kubectl(['patch', 'whs', 'shared', '-n', namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await waitFor('Suspended written by the new leader', async () =>
      condition(await getWebhookSource(namespace, 'shared'), 'Ready')?.reason === 'Suspended' ? true : undefined,
    );

    // A leader that stops cleanly releases the Lease: the next one takes over without waiting it out.
    const third = await replica(namespace, 'replica-c');
    await waitFor('the third replica serving', async () => ((await fetch(`${third.url}/readyz`)).ok ? true : undefined));
    const stopped = Date.now();
    await follower.stop();
    await waitFor('replica-c to lead', async () => ((await leaseHolder(namespace))?.holder === 'replica-c' ? true : undefined), 10_000, 100);
    const releaseHandoverMs = Date.now() - stopped;
    console.log(`leader SIGTERM → new leader: ${releaseHandoverMs} ms`);
    assert.ok(releaseHandoverMs < LEASE_SECONDS * 1000, `after a release the next leader took ${releaseHandoverMs} ms`);
  });
});
