/**
 * GitOps and Kubernetes mode against the real kube-apiserver of `npm test`: what
 * `tw-cli webhook add --output yaml` prints is accepted by the API server as is, and in Kubernetes
 * mode the registration API writes the WebhookSource + labelled Secret by server-side apply.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createTestNamespace, kubectlBin, kubeFromEnv, needs } from '../helpers/servers.js';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, genericAlert, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { runProgram, twCli } from '../helpers/cli.js';

await needs('kube');

const run = promisify(execFile);
const webhookSources = { group: 'triagewarden.io', version: 'v1alpha1', plural: 'webhooksources' };

const kubectl = (args: string[], stdin: string) => runProgram(kubectlBin(), args, process.env, stdin);

describe('tw-cli and the Kubernetes API server', () => {
  let namespace: string;

  before(async () => {
    await run(kubectlBin(), ['apply', '-f', 'crds/']);
    await run(kubectlBin(), ['wait', '--for=condition=Established', 'crd/webhooksources.triagewarden.io', '--timeout=60s']);
    namespace = await createTestNamespace(kubeFromEnv(), 'tw-cli');
  });

  it('webhook add --output yaml prints a WebhookSource + Secret that kubectl apply --dry-run=server accepts', async () => {
    const printed = await twCli(
      [
        'webhook',
        'add',
        'email-gateway',
        '--secret',
        '-',
        '--auto-triage',
        'true',
        '--playbook',
        'phishing_triage',
        '--severity-map',
        'P1=critical,p2=high',
        '--rate-limit',
        '10',
        '--burst',
        '20',
        '--namespace',
        namespace,
        '--output',
        'yaml',
      ],
      { TW_API_URL: 'http://127.0.0.1:9' }, // never called: --output yaml prints instead
      'gitops-secret\n',
    );
    assert.equal(printed.code, 0, printed.stderr);
    const documents = parseAllDocuments(printed.stdout).map(
      (document) => document.toJS() as { kind: string; spec?: Record<string, unknown>; metadata: { labels: Record<string, string> } },
    );
    assert.deepEqual(
      documents.map((document) => document.kind),
      ['WebhookSource', 'Secret'],
    );
    assert.equal(documents[1]!.metadata.labels['triagewarden.io/webhook-secret'], 'true');
    assert.deepEqual(documents[0]!.spec!.severityMapping, { p1: 'critical', p2: 'high' });

    const applied = await kubectl(['apply', '--dry-run=server', '-f', '-'], printed.stdout);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /webhooksource\.triagewarden\.io\/email-gateway created \(server dry run\)/);
    assert.match(applied.stdout, /secret\/email-gateway-webhook-secret created \(server dry run\)/);
  });

  describe('registration in Kubernetes mode (TW_KUBERNETES=true)', () => {
    let service: RunningService;
    let env: Record<string, string>;

    before(async () => {
      service = await startService({
        config: 'sources: {}\n',
        // A short grace period so the rotation test sees the previous key expire.
        env: { TW_KUBERNETES: 'true', TW_NAMESPACE: namespace, KUBECONFIG: process.env.KUBECONFIG ?? '', TW_ROTATION_GRACE_SECONDS: '8' },
      });
      env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
    });
    after(() => service?.stop());

    it('creates the WebhookSource and the labelled Secret by server-side apply with field manager tw-webhooks', async () => {
      const added = await twCli(['webhook', 'add', 'k8s-edr', '--secret', 'k8s-edr-secret-0123456789', '--auto-triage', '--playbook', 'malware_triage'], env);
      assert.equal(added.code, 0, added.stderr);

      const kube = kubeFromEnv();
      const source = (await kube.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...webhookSources, namespace, name: 'k8s-edr' })) as {
        spec: Record<string, unknown>;
        metadata: { managedFields: { manager: string; operation: string }[] };
      };
      assert.equal(source.spec.sourceName, 'k8s-edr');
      assert.equal(source.spec.autoTriage, true);
      assert.equal(source.spec.playbook, 'malware_triage');
      assert.deepEqual(source.spec.secretRef, { name: 'k8s-edr-webhook-secret', key: 'secret' });
      assert.ok(
        source.metadata.managedFields.some((field) => field.manager === 'tw-webhooks' && field.operation === 'Apply'),
        JSON.stringify(source.metadata.managedFields),
      );

      const secret = await kube.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: 'k8s-edr-webhook-secret' });
      assert.equal(secret.metadata?.labels?.['triagewarden.io/webhook-secret'], 'true');
      assert.equal(Buffer.from(secret.data!.secret!, 'base64').toString('utf8'), 'k8s-edr-secret-0123456789');
      assert.ok(secret.metadata?.managedFields?.some((field) => field.manager === 'tw-webhooks' && field.operation === 'Apply'));

      const again = await twCli(['webhook', 'add', 'k8s-edr', '--secret', 'other-secret-0123456789'], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already registered .*\(conflict\)/);

      // Every replica's kubernetes provider serves the object the API wrote.
      await waitFor('the source to go live', async () => {
        const reply = await deliver(service.url, 'k8s-edr', 'k8s-edr-secret-0123456789', genericAlert('k8s-live'));
        return reply.status === 201 ? reply : undefined;
      });
    });

    it('webhook add --output yaml, applied for real, becomes Ready and its source goes live', async () => {
      const printed = await twCli(
        ['webhook', 'add', 'gitops-siem', '--secret', '-', '--namespace', namespace, '--output', 'yaml'],
        { TW_API_URL: 'http://127.0.0.1:9' }, // never called: --output yaml prints instead
        'gitops-siem-secret\n',
      );
      assert.equal(printed.code, 0, printed.stderr);
      const applied = await kubectl(['apply', '-f', '-'], printed.stdout);
      assert.equal(applied.code, 0, applied.stderr);
      const ready = await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', 'webhooksource/gitops-siem', '--timeout=60s'], '');
      assert.equal(ready.code, 0, ready.stderr);
      await waitFor('the GitOps-declared source to go live', async () => {
        const reply = await deliver(service.url, 'gitops-siem', 'gitops-siem-secret', genericAlert('gitops-live'));
        return reply.status === 201 ? reply : undefined;
      });
    });

    it('rotates through PATCH (previous key kept) and removes both objects', async () => {
      const rotated = await twCli(['webhook', 'update', 'k8s-edr', '--secret', 'k8s-edr-rotated-0123456789'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const kube = kubeFromEnv();
      const secret = await kube.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: 'k8s-edr-webhook-secret' });
      assert.equal(Buffer.from(secret.data!.secret!, 'base64').toString('utf8'), 'k8s-edr-rotated-0123456789');
      assert.equal(Buffer.from(secret.data!.previous!, 'base64').toString('utf8'), 'k8s-edr-secret-0123456789');
      const source = (await kube.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...webhookSources, namespace, name: 'k8s-edr' })) as {
        spec: { secretRef: unknown };
      };
      assert.deepEqual(source.spec.secretRef, { name: 'k8s-edr-webhook-secret', key: 'secret', previousKey: 'previous' });

      // Both secrets verify during the grace period (the URL stays), then only the new one.
      await waitFor('the rotated secret to verify', async () => {
        const reply = await deliver(service.url, 'k8s-edr', 'k8s-edr-rotated-0123456789', genericAlert('k8s-rotated'));
        return reply.status === 201 ? reply : undefined;
      });
      const during = await deliver(service.url, 'k8s-edr', 'k8s-edr-secret-0123456789', genericAlert('k8s-old-in-grace'));
      assert.equal(during.status, 201, 'the previous secret still verifies within the grace period');
      await waitFor('the previous secret to expire', async () => {
        const reply = await deliver(service.url, 'k8s-edr', 'k8s-edr-secret-0123456789', genericAlert(`k8s-old-${Date.now()}`));
        return reply.status === 401 ? reply : undefined;
      });
      assert.equal((await deliver(service.url, 'k8s-edr', 'k8s-edr-rotated-0123456789', genericAlert('k8s-after-grace'))).status, 201);

      const removed = await twCli(['webhook', 'remove', 'k8s-edr'], env);
      assert.equal(removed.code, 0, removed.stderr);
      await assert.rejects(kube.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...webhookSources, namespace, name: 'k8s-edr' }), /404|not found/i);
      await assert.rejects(kube.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: 'k8s-edr-webhook-secret' }), /404|not found/i);
      assert.equal((await twCli(['webhook', 'remove', 'k8s-edr'], env)).code, 3);
    });
  });
});
