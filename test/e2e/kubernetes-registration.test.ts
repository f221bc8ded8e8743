/**
 * Least privilege of the registration API in Kubernetes mode, against the real kube-apiserver:
 * it writes only into TW_REGISTRATION_NAMESPACE, and applies or deletes only the objects it made
 * there — a Secret or WebhookSource of the same name made (or taken over) by another field manager
 * is a 409 and stays exactly as it was. The service runs as a cluster admin here, so what refuses
 * is its own check, not RBAC.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import { createTestNamespace, kubeFromEnv, needs } from '../helpers/servers.js';
import { startService, type RunningService } from '../helpers/service.js';
import { assertError, deliver, genericAlert, post, request, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { installCrd, kubectl, kubernetesEnv, SECRET_LABEL } from '../helpers/kube-sources.js';

await needs('kube');

const SECRET = 'registered-secret-0123456789';
const THEIRS = 'someone-elses-secret-0123456789';
const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };
const webhookSources = { group: 'triagewarden.io', version: 'v1alpha1', plural: 'webhooksources' };

describe('registration in Kubernetes mode writes only what it made, where it may', () => {
  let service: RunningService;
  let release: string;
  let sources: string;
  const kube = kubeFromEnv();
  const core = kube.makeApiClient(CoreV1Api);
  const custom = kube.makeApiClient(CustomObjectsApi);

  before(async () => {
    await installCrd();
    release = await createTestNamespace(kube, 'tw-release');
    sources = await createTestNamespace(kube, 'tw-sources');
    service = await startService({
      config: 'sources: {}\n',
      env: kubernetesEnv(sources, { TW_NAMESPACE: release, TW_REGISTRATION_NAMESPACE: sources }),
    });
  });
  after(() => service?.stop());

  const register = (name: string) => post(service.url, '/api/webhooks', JSON.stringify({ source: name, secret: SECRET }), AUTH);
  const readSecret = (name: string) => core.readNamespacedSecret({ namespace: sources, name: `${name}-webhook-secret` });
  const secretValue = (secret: V1Secret) => Buffer.from(secret.data!.secret!, 'base64').toString('utf8');
  /** A Secret made by another field manager, as `kubectl create` would (labelled as ours if `forged`). */
  const foreignSecret = (name: string, forged: boolean) =>
    core.createNamespacedSecret({
      namespace: sources,
      fieldManager: 'someone-else',
      body: {
        metadata: { name: `${name}-webhook-secret`, labels: { ...SECRET_LABEL, ...(forged && { 'app.kubernetes.io/managed-by': 'tw-webhooks' }) } },
        stringData: { secret: THEIRS },
      },
    });

  it('writes the WebhookSource and its Secret into TW_REGISTRATION_NAMESPACE, none into the release namespace, and serves the source', async () => {
    const added = await register('edr');
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(secretValue(await readSecret('edr')), SECRET);
    await custom.getNamespacedCustomObject({ ...webhookSources, namespace: sources, name: 'edr' });
    const inRelease = await core.listNamespacedSecret({ namespace: release });
    assert.deepEqual(
      inRelease.items.map((secret) => secret.metadata?.name),
      [],
      'nothing written where the service itself lives',
    );
    await waitFor(async () => ((await deliver(service.url, 'edr', SECRET, genericAlert(`edr-${Date.now()}`))).status === 201 ? true : undefined), {
      message: 'the registered source to be served',
    });
    // The audit record names the key and the user the cluster saw write, for its own audit log.
    const audit = await request(service.url, '/api/audit?target=edr', { headers: AUTH });
    assert.equal(audit.body.items[0].action, 'source.register');
    assert.equal(audit.body.items[0].actor.key_id, 'bootstrap');
    assert.match(audit.body.items[0].actor.kubernetes_user, /\S/);
  });

  for (const forged of [false, true]) {
    it(`refuses to take over a Secret of that name another manager made${forged ? ', even labelled managed-by: tw-webhooks' : ''}, and leaves it as it was`, async () => {
      const name = forged ? 'forged' : 'foreign';
      const theirs = await foreignSecret(name, forged);
      const refused = await register(name);
      assertError(refused, 409, 'conflict', /was not made by the registration API; it is never taken over/);
      const after = await readSecret(name);
      assert.equal(after.metadata?.resourceVersion, theirs.metadata?.resourceVersion, 'not written at all');
      assert.equal(secretValue(after), THEIRS);
      await assert.rejects(custom.getNamespacedCustomObject({ ...webhookSources, namespace: sources, name }), 'no WebhookSource was made either');
    });
  }

  it('a rotation refuses a Secret another manager took over since, and leaves their value', async () => {
    assert.equal((await register('taken')).status, 201);
    // Someone forces their value onto our Secret's data.secret field (server-side apply, --force-conflicts):
    // the field is theirs now.
    const takeover = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'taken-webhook-secret', namespace: sources },
      data: { secret: Buffer.from(THEIRS).toString('base64') },
    };
    await kubectl(['apply', '--server-side', '--field-manager=someone-else', '--force-conflicts', '-f', '-'], { input: JSON.stringify(takeover) });
    const before = await readSecret('taken');
    const rotated = await request(service.url, '/api/webhooks/taken', {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ secret: 'rotated-secret-0123456789' }),
    });
    assertError(rotated, 409, 'conflict');
    const after = await readSecret('taken');
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
    assert.equal(secretValue(after), THEIRS);
  });

  it('remove deletes its WebhookSource but not a Secret of the name that someone else made meanwhile', async () => {
    assert.equal((await register('shared')).status, 201);
    await core.deleteNamespacedSecret({ namespace: sources, name: 'shared-webhook-secret' });
    const theirs = await foreignSecret('shared', false);
    const removed = await request(service.url, '/api/webhooks/shared', { method: 'DELETE', headers: AUTH });
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    await assert.rejects(custom.getNamespacedCustomObject({ ...webhookSources, namespace: sources, name: 'shared' }), 'its WebhookSource is gone');
    const kept = await readSecret('shared');
    assert.equal(kept.metadata?.uid, theirs.metadata?.uid, 'their Secret is still there');
    assert.equal(secretValue(kept), THEIRS);
  });

  it('a WebhookSource it did not make is neither changed nor deleted', async () => {
    const gitops = {
      apiVersion: 'triagewarden.io/v1alpha1',
      kind: 'WebhookSource',
      metadata: { name: 'gitops', namespace: sources },
      spec: { secretRef: { name: 'gitops-webhook-secret' } },
    };
    const itsSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gitops-webhook-secret', namespace: sources, labels: SECRET_LABEL },
      stringData: { secret: THEIRS },
    };
    await kubectl(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [itsSecret, gitops] }),
    });
    await waitFor(async () => ((await request(service.url, '/api/webhooks/gitops', { headers: AUTH })).status === 200 ? true : undefined), {
      message: 'the GitOps source to be served',
    });
    const before = (await custom.getNamespacedCustomObject({ ...webhookSources, namespace: sources, name: 'gitops' })) as {
      metadata: { resourceVersion: string };
    };
    const changed = await request(service.url, '/api/webhooks/gitops', {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ auto_triage: false }),
    });
    assertError(changed, 409, 'conflict', /declared in kubernetes:.*; change it there/);
    assertError(await request(service.url, '/api/webhooks/gitops', { method: 'DELETE', headers: AUTH }), 409, 'conflict');
    const after = (await custom.getNamespacedCustomObject({ ...webhookSources, namespace: sources, name: 'gitops' })) as {
      metadata: { resourceVersion: string };
    };
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  });
});
