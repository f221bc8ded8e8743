/**
 * WebhookSource objects and their Secrets drive the live registry: the real service in Kubernetes
 * mode against the real kube-apiserver, driven with kubectl as a platform team would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/api-client.js';
import { apply, condition, getWebhookSource, installCrd, kubectl, kubernetesEnv, secret, sendSigned, webhookSource } from '../helpers/kube-sources.js';
import { createTestNamespace, needs } from '../helpers/servers.js';
import { startService, type RunningService } from '../helpers/service.js';

await needs('kube');

let namespace: string;
let service: RunningService;

before(async () => {
  await installCrd();
  namespace = await createTestNamespace();
  // The file provider keeps working beside the cluster: one source comes from webhook_config.yaml.
  service = await startService({ config: 'sources:\n  from-file:\n    secret: "file-secret"\n', env: kubernetesEnv(namespace) });
  await waitFor('the service to be ready', async () => ((await fetch(`${service.url}/readyz`)).ok ? true : undefined), 30_000);
});
after(async () => {
  await service?.stop();
});

/** Polls until the object's condition satisfies `check`; returns the object. */
function waitForCondition(name: string, type: string, check: (status: string, reason: string) => boolean, timeoutMs = 15_000) {
  return waitFor(
    `${namespace}/${name} ${type}`,
    async () => {
      const object = await getWebhookSource(namespace, name);
      const found = condition(object, type);
      return found && check(found.status, found.reason) ? object : undefined;
    },
    timeoutMs,
    200,
  );
}

const servedWith = (name: string, secretValue: string) =>
  waitFor(`${name} accepting ${secretValue}`, async () => ((await sendSigned(service.url, name, secretValue)).status === 201 ? true : undefined), 15_000, 100);

describe('a WebhookSource with only a secretRef', () => {
  it('becomes Ready with observedGeneration and webhookPath, and accepts a signed event; kubectl wait works', async () => {
    const started = Date.now();
    await apply([secret(namespace, 'minimal', { secret: 'minimal-secret' }), webhookSource(namespace, 'minimal', { secretRef: { name: 'minimal' } })]);
    const applied = Date.now();
    await servedWith('minimal', 'minimal-secret');
    const live = Date.now();
    await kubectl(['wait', '--for=condition=Ready', 'whs/minimal', '-n', namespace, '--timeout=30s']);
    const object = await getWebhookSource(namespace, 'minimal');
    assert.equal(object.status?.observedGeneration, object.metadata.generation);
    assert.equal(object.status?.webhookPath, '/api/webhooks/minimal');
    assert.equal(condition(object, 'Ready')?.observedGeneration, object.metadata.generation);
    assert.equal(condition(object, 'SecretResolved')?.status, 'True');
    const table = await kubectl(['get', 'whs', 'minimal', '-n', namespace]);
    assert.match(table, /minimal\s+True\s+Serving\s+\/api\/webhooks\/minimal/);
    console.log(`kubectl apply → live route: ${live - started} ms (${applied - started} ms of it in kubectl; ${live - applied} ms from its return)`);
    assert.equal((await sendSigned(service.url, 'minimal', 'wrong-secret')).code, 'invalid_signature');
  });
});

describe('secret rotation', () => {
  it('accepts both keys during the overlap, then only the new one, at the same URL', async () => {
    await apply([secret(namespace, 'rotating', { secret: 'old-key' }), webhookSource(namespace, 'rotating', { secretRef: { name: 'rotating' } })]);
    await servedWith('rotating', 'old-key');
    const before = await getWebhookSource(namespace, 'rotating');

    await apply([
      secret(namespace, 'rotating', { secret: 'new-key', previous: 'old-key' }),
      webhookSource(namespace, 'rotating', { secretRef: { name: 'rotating', previousKey: 'previous' } }),
    ]);
    await servedWith('rotating', 'new-key');
    assert.equal((await sendSigned(service.url, 'rotating', 'old-key')).status, 201, 'the previous key still verifies');

    await apply([webhookSource(namespace, 'rotating', { secretRef: { name: 'rotating' } })]);
    await waitFor('the old key to be refused', async () =>
      (await sendSigned(service.url, 'rotating', 'old-key')).code === 'invalid_signature' ? true : undefined,
    );
    assert.equal((await sendSigned(service.url, 'rotating', 'new-key')).status, 201);
    const after = await waitForCondition('rotating', 'Ready', (status) => status === 'True');
    assert.equal(after.status?.webhookPath, before.status?.webhookPath);
  });
});

describe('deletion and suspension', () => {
  it('answers 404 unknown_source within seconds of a delete', async () => {
    await apply([secret(namespace, 'short-lived', { secret: 's' }), webhookSource(namespace, 'short-lived', { secretRef: { name: 'short-lived' } })]);
    await servedWith('short-lived', 's');
    const deleted = Date.now();
    await kubectl(['delete', 'whs', 'short-lived', '-n', namespace]);
    await waitFor('404 after delete', async () => ((await sendSigned(service.url, 'short-lived', 's')).code === 'unknown_source' ? true : undefined), 5_000);
    console.log(`kubectl delete → 404: ${Date.now() - deleted} ms`);
  });

  it('answers 404 while suspended and serves again when resumed', async () => {
    await apply([secret(namespace, 'pausable', { secret: 'p' }), webhookSource(namespace, 'pausable', { secretRef: { name: 'pausable' } })]);
    await servedWith('pausable', 'p');
    await kubectl(['patch', 'whs', 'pausable', '-n', namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await waitFor('404 while suspended', async () => ((await sendSigned(service.url, 'pausable', 'p')).code === 'unknown_source' ? true : undefined), 5_000);
    await waitForCondition('pausable', 'Ready', (status, reason) => status === 'False' && reason === 'Suspended');
    await kubectl(['patch', 'whs', 'pausable', '-n', namespace, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await servedWith('pausable', 'p');
    await waitForCondition('pausable', 'Ready', (status) => status === 'True');
  });
});

describe('secret problems', () => {
  it('reports SecretNotFound with an Event, and heals when the Secret appears', async () => {
    await apply([webhookSource(namespace, 'waiting', { secretRef: { name: 'waiting' } })]);
    const object = await waitForCondition('waiting', 'SecretResolved', (status, reason) => status === 'False' && reason === 'SecretNotFound');
    assert.equal(condition(object, 'Ready')?.status, 'False');
    assert.equal((await sendSigned(service.url, 'waiting', 'w')).code, 'unknown_source');
    await waitFor('a SecretNotFound Event', async () => {
      const events = JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])) as {
        items: { reason: string; type: string; regarding: { name: string; kind: string } }[];
      };
      return events.items.find(
        (event) =>
          event.regarding.name === 'waiting' && event.regarding.kind === 'WebhookSource' && event.reason === 'SecretNotFound' && event.type === 'Warning',
      );
    });
    await apply([secret(namespace, 'waiting', { secret: 'w' })]);
    await servedWith('waiting', 'w');
    await waitForCondition('waiting', 'SecretResolved', (status) => status === 'True');
  });

  it('reports SecretNotLabelled for a Secret without the label', async () => {
    await apply([secret(namespace, 'unlabelled', { secret: 'u' }, false), webhookSource(namespace, 'unlabelled', { secretRef: { name: 'unlabelled' } })]);
    const object = await waitForCondition('unlabelled', 'SecretResolved', (status, reason) => status === 'False' && reason === 'SecretNotLabelled');
    assert.match(condition(object, 'SecretResolved')!.message, /triagewarden\.io\/webhook-secret=true/);
    assert.equal((await sendSigned(service.url, 'unlabelled', 'u')).code, 'unknown_source');
  });

  it('reports KeyMissing when the Secret lacks the key', async () => {
    await apply([secret(namespace, 'keyless', { other: 'x' }), webhookSource(namespace, 'keyless', { secretRef: { name: 'keyless' } })]);
    await waitForCondition('keyless', 'SecretResolved', (status, reason) => status === 'False' && reason === 'KeyMissing');
  });
});

describe('two objects claiming one source name', () => {
  it('keeps the older serving and marks the younger SourceConflict, naming the older', async () => {
    await apply([
      secret(namespace, 'claim', { secret: 'older-key', younger: 'younger-key' }),
      webhookSource(namespace, 'claim-older', { sourceName: 'claimed', secretRef: { name: 'claim' } }),
    ]);
    await servedWith('claimed', 'older-key');
    const older = await getWebhookSource(namespace, 'claim-older');
    // Creation times have one-second precision: the younger must be created in a later second.
    await waitFor('the next second', async () => (new Date().toISOString().slice(0, 19) > older.metadata.creationTimestamp.slice(0, 19) ? true : undefined));
    await apply([webhookSource(namespace, 'claim-younger', { sourceName: 'claimed', secretRef: { name: 'claim', key: 'younger' } })]);
    const younger = await waitForCondition('claim-younger', 'Ready', (status, reason) => status === 'False' && reason === 'SourceConflict');
    assert.match(condition(younger, 'Ready')!.message, new RegExp(`${namespace}/claim-older`));
    assert.equal((await sendSigned(service.url, 'claimed', 'older-key')).status, 201);
    assert.equal((await sendSigned(service.url, 'claimed', 'younger-key')).code, 'invalid_signature');
    assert.equal(condition(await getWebhookSource(namespace, 'claim-older'), 'Ready')?.status, 'True');

    await kubectl(['delete', 'whs', 'claim-older', '-n', namespace]);
    await servedWith('claimed', 'younger-key');
    await waitForCondition('claim-younger', 'Ready', (status) => status === 'True');
  });

  it('leaves a name declared in webhook_config.yaml with the file and reports the conflict', async () => {
    await apply([
      secret(namespace, 'file-clash', { secret: 'cluster-secret' }),
      webhookSource(namespace, 'file-clash', { sourceName: 'from-file', secretRef: { name: 'file-clash' } }),
    ]);
    const object = await waitForCondition('file-clash', 'Ready', (status, reason) => status === 'False' && reason === 'SourceConflict');
    assert.match(condition(object, 'Ready')!.message, /file:.*webhook_config\.yaml/);
    assert.equal((await sendSigned(service.url, 'from-file', 'file-secret')).status, 201);
    assert.equal((await sendSigned(service.url, 'from-file', 'cluster-secret')).code, 'invalid_signature');
  });
});
