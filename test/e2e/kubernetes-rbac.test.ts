/**
 * The RBAC kept in config/rbac/ is enough: the service runs as a ServiceAccount bound to exactly
 * those rules (the namespaced variant), and serves, writes status, records Events and leads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
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

const RBAC = resolve(import.meta.dirname, '../../config/rbac');
let service: RunningService | undefined;
after(async () => {
  await service?.stop();
});

/** The repo's YAML with every namespace (objects and subjects) set to the test's. */
function rbacObjects(file: string, namespace: string): object[] {
  return parseAllDocuments(readFileSync(join(RBAC, file), 'utf8')).map((document) => {
    const object = document.toJS() as { metadata: { namespace?: string }; subjects?: { namespace: string }[] };
    object.metadata.namespace = namespace;
    for (const subject of object.subjects ?? []) subject.namespace = namespace;
    return object;
  });
}

/** A kubeconfig for the ServiceAccount: the admin kubeconfig's cluster, a TokenRequest token. */
async function serviceAccountKubeconfig(namespace: string): Promise<string> {
  const admin = JSON.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as { clusters: { name: string; cluster: object }[] };
  const token = (await kubectl(['create', 'token', 'tw-webhooks', '-n', namespace, '--duration=1h'])).trim();
  const file = join(mkdtempSync(join(tmpdir(), 'tw-sa-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: admin.clusters,
      users: [{ name: 'tw-webhooks', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: admin.clusters[0]!.name, user: 'tw-webhooks', namespace } }],
      'current-context': 'sa',
    }),
    { mode: 0o600 },
  );
  return file;
}

describe('the minimum RBAC of config/rbac', () => {
  it('lets the service serve, write status, record Events and hold the Lease', async () => {
    await installCrd();
    const namespace = await createTestNamespace();
    await apply([{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace, name: 'tw-webhooks' } }]);
    await apply([...rbacObjects('namespaced-role.yaml', namespace), ...rbacObjects('lease-role.yaml', namespace)]);
    const kubeconfig = await serviceAccountKubeconfig(namespace);
    assert.equal((await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', namespace], { kubeconfig })).trim(), 'yes');
    assert.equal((await kubectl(['auth', 'can-i', 'create', 'secrets', '-n', namespace], { kubeconfig }).catch(() => 'no\n')).trim(), 'no');

    await apply([secret(namespace, 'rbac', { secret: 'r' }), webhookSource(namespace, 'rbac', { secretRef: { name: 'rbac' } })]);
    service = await startService({ config: NO_FILE_SOURCES, env: kubernetesEnv(namespace, { KUBECONFIG: kubeconfig, TW_POD_NAME: 'rbac-pod' }) });
    const running = service;
    await waitFor('served', async () => ((await sendSigned(running.url, 'rbac', 'r')).status === 201 ? true : undefined), 30_000);
    await waitFor('Ready written', async () => (condition(await getWebhookSource(namespace, 'rbac'), 'Ready')?.status === 'True' ? true : undefined));
    const lease = JSON.parse(await kubectl(['get', 'lease', 'tw-webhooks-leader', '-n', namespace, '-o', 'json'])) as { spec: { holderIdentity: string } };
    assert.equal(lease.spec.holderIdentity, 'rbac-pod');
    // An unlabelled Secret is told apart with the one GET the rules allow.
    await apply([secret(namespace, 'plain', { secret: 'p' }, false), webhookSource(namespace, 'plain', { secretRef: { name: 'plain' } })]);
    await waitFor('SecretNotLabelled', async () =>
      condition(await getWebhookSource(namespace, 'plain'), 'SecretResolved')?.reason === 'SecretNotLabelled' ? true : undefined,
    );
    const events = JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])) as { items: { reason: string }[] };
    assert.ok(events.items.some((event) => event.reason === 'Serving'));
    const forbidden = running.logs.filter((entry) => JSON.stringify(entry).includes('forbidden'));
    assert.deepEqual(forbidden, [], 'no request was refused');
  });
});
