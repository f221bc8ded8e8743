/**
 * The generated WebhookSource CRD on the real kube-apiserver: it installs, the smallest object
 * works, the API server enforces the same bounds as webhook_config.yaml (one table of cases) and
 * the CEL rules at apply time, and the effective source name cannot change.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import { SOURCE_DEFAULTS } from '../../src/sources/source-spec.js';
import { WEBHOOK_SOURCE_API, type WebhookSource, type WebhookSourceSpec } from '../../src/kubernetes/webhook-source-crd.js';
import { createTestNamespace, kubeFromEnv, kubectlBin, needs } from '../helpers/servers.js';
import { SPEC_CASES } from '../helpers/source-spec-cases.js';

await needs('kube');

const run = promisify(execFile);
const CRD_FILE = 'crds/triagewarden.io_webhooksources.yaml';
const { group, version, plural } = WEBHOOK_SOURCE_API;
const resource = { group, version, plural };

function webhookSource(name: string, spec: Record<string, unknown>): WebhookSource {
  return { apiVersion: `${group}/${version}`, kind: 'WebhookSource', metadata: { name }, spec: spec as unknown as WebhookSourceSpec };
}

/** The API server's 422 carries each violated rule's message and field path in the Status body. */
async function rejection(request: Promise<unknown>): Promise<string> {
  let message = '';
  await assert.rejects(request, (error: unknown) => {
    assert.ok(error instanceof ApiException, `expected an API error, got ${String(error)}`);
    assert.equal(error.code, 422, String(error.body));
    message = String(error.body);
    return true;
  });
  return message;
}

describe('the WebhookSource CRD on the API server', () => {
  const api = () => kubeFromEnv().makeApiClient(CustomObjectsApi);
  let namespace: string;
  const create = (body: WebhookSource) => api().createNamespacedCustomObject({ ...resource, namespace, body }) as Promise<WebhookSource>;
  const get = (name: string) => api().getNamespacedCustomObject({ ...resource, namespace, name }) as Promise<WebhookSource>;
  const replace = (body: WebhookSource) =>
    api().replaceNamespacedCustomObject({ ...resource, namespace, name: body.metadata.name!, body }) as Promise<WebhookSource>;

  before(async () => {
    namespace = await createTestNamespace();
  });

  it('installs from the generated file and becomes Established', async () => {
    await run(kubectlBin(), ['apply', '-f', CRD_FILE]);
    await run(kubectlBin(), ['wait', '--for=condition=Established', `crd/${plural}.${group}`, '--timeout=60s']);
    const { stdout } = await run(kubectlBin(), ['get', 'crd', `${plural}.${group}`, '-o', 'jsonpath={.status.acceptedNames.shortNames}']);
    assert.match(stdout, /whs/);
  });

  it('accepts an object with only a secretRef and fills in the defaults', async () => {
    const created = await create(webhookSource('email-gateway', { secretRef: { name: 'email-gateway' } }));
    assert.deepEqual(created.spec, {
      secretRef: { name: 'email-gateway', key: 'secret' },
      verification: SOURCE_DEFAULTS.verification,
      autoTriage: SOURCE_DEFAULTS.autoTriage,
      toleranceSeconds: SOURCE_DEFAULTS.toleranceSeconds,
      maxBodyBytes: SOURCE_DEFAULTS.maxBodyBytes,
      processing: SOURCE_DEFAULTS.processing,
      suspend: SOURCE_DEFAULTS.suspend,
    });
  });

  describe('the bounds shared with webhook_config.yaml', () => {
    SPEC_CASES.forEach(({ what, spec, accepted, field }, position) => {
      it(`${accepted ? 'accepts' : 'rejects'} ${what}`, async () => {
        const body = webhookSource(`case-${position}`, { secretRef: { name: 's' }, ...spec });
        if (accepted) await create(body);
        else assert.ok((await rejection(create(body))).includes(field!), `the rejection does not name ${field}`);
      });
    });
  });

  it('rejects previousKey equal to key, also when key is left to its default', async () => {
    for (const [name, secretRef] of [
      ['same-keys', { name: 's', key: 'k', previousKey: 'k' }],
      ['default-key', { name: 's', previousKey: 'secret' }],
    ] as const) {
      assert.match(await rejection(create(webhookSource(name, { secretRef }))), /previousKey must name a different key than key/);
    }
  });

  it('rejects an object whose name is no source name unless spec.sourceName is set', async () => {
    assert.match(
      await rejection(create(webhookSource('edr.team-a', { secretRef: { name: 's' } }))),
      /metadata.name is not a valid source name \(a DNS label of at most 63 characters\): set spec.sourceName/,
    );
    await create(webhookSource('edr.team-b', { sourceName: 'edr-team-b', secretRef: { name: 's' } }));
  });

  describe('the effective source name is immutable', () => {
    const immutable = /the source name \(spec.sourceName, else metadata.name\) is immutable/;
    const withSpec = (object: WebhookSource, spec: Partial<WebhookSourceSpec>): WebhookSource => {
      const { sourceName: _dropped, ...rest } = object.spec;
      return { ...object, spec: { ...rest, ...spec } };
    };

    it('refuses to change or remove a set sourceName', async () => {
      await create(webhookSource('renamed', { sourceName: 'first', secretRef: { name: 's' } }));
      const current = await get('renamed');
      assert.match(await rejection(replace(withSpec(current, { sourceName: 'second' }))), immutable);
      assert.match(await rejection(replace(withSpec(current, {}))), immutable);
    });

    it('refuses to set a sourceName other than metadata.name later, and allows spelling out the same name', async () => {
      await create(webhookSource('unnamed', { secretRef: { name: 's' } }));
      const current = await get('unnamed');
      assert.match(await rejection(replace(withSpec(current, { sourceName: 'other' }))), immutable);
      const spelledOut = await replace(withSpec(current, { sourceName: 'unnamed' }));
      assert.equal(spelledOut.spec.sourceName, 'unnamed');
    });

    it('lets every other field change', async () => {
      await create(webhookSource('tuned', { secretRef: { name: 's' } }));
      const updated = await replace({ ...(await get('tuned')), spec: { secretRef: { name: 's2' }, toleranceSeconds: 60 } });
      assert.equal(updated.spec.toleranceSeconds, 60);
    });
  });

  it('takes the status the controller writes and shows it in the printer columns', async () => {
    await create(webhookSource('columns', { secretRef: { name: 's' }, format: 'crowdstrike' }));
    const current = await get('columns');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await api().replaceNamespacedCustomObjectStatus({
      ...resource,
      namespace,
      name: 'columns',
      body: {
        ...current,
        status: {
          observedGeneration: current.metadata.generation,
          sourceName: 'columns',
          webhookPath: '/api/webhooks/columns',
          lastEventTime: now,
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              observedGeneration: current.metadata.generation,
              lastTransitionTime: now,
              reason: 'SecretNotFound',
              message: "Secret 's' not found",
            },
          ],
        },
      },
    });
    const { stdout } = await run(kubectlBin(), ['get', 'whs', 'columns', '-n', namespace, '-o', 'wide']);
    const [header, row] = stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/));
    assert.deepEqual(header, ['NAME', 'SOURCE', 'READY', 'REASON', 'PATH', 'FORMAT', 'SUSPENDED', 'AGE']);
    assert.deepEqual(row?.slice(0, 7), ['columns', 'columns', 'False', 'SecretNotFound', '/api/webhooks/columns', 'crowdstrike', 'false']);
  });
});
