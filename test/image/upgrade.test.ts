/**
 * `helm upgrade` from the previous release with data in place, against the real test API server,
 * the pods run with `podman kube play`: the previous chart (TW_PREVIOUS_CHART) and its image
 * (TW_PREVIOUS_IMAGE, built from that commit) store incidents of a WebhookSource; then `helm upgrade
 * --take-ownership` to this chart and a pod of this image (TW_IMAGE) on the same claim. The CRD
 * becomes the release's and a changed schema reaches the cluster by `helm upgrade` alone; the
 * WebhookSource, its Secret, the incidents and their numbering all carry over; the claim keeps its size.
 * scripts/image-test.sh builds both images and extracts the previous chart.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { apply, condition, getWebhookSource, installCrd, kubectl, secret, webhookSource } from '../helpers/kube-sources.js';
import { createTestNamespace, helmBin, needs } from '../helpers/servers.js';
import { deliver, genericAlert } from '../helpers/api-client.js';
import { waitFor } from '../helpers/wait.js';
import { chartDir } from '../deploy/chart.js';
import { apiServerOf, localImageValues, playChartPod, removeClaimVolume, type PlayedPod } from './kube-play.js';

await needs('kube', 'helm');

const run = promisify(execFile);
const { TW_IMAGE: IMAGE, TW_PREVIOUS_IMAGE: PREVIOUS_IMAGE, TW_PREVIOUS_CHART: PREVIOUS_CHART } = process.env;
const API_KEY = `tw_${randomBytes(24).toString('base64url')}`;
const CRD = 'crd/webhooksources.triagewarden.io';

async function helm(args: string[]): Promise<string> {
  return (await run(helmBin(), args, { maxBuffer: 16 << 20 })).stdout;
}

/** A signed alert to the carried-over source. */
const send = (url: string, alertId: string) => deliver(url, 'carried', 'carried-secret', genericAlert(alertId));

describe('helm upgrade from the previous release, with data in place', () => {
  let namespace: string;
  let release: string;
  let claim: string;
  const pods: PlayedPod[] = [];
  const token = async () => (await kubectl(['create', 'token', `${release}-tw-webhooks`, '-n', namespace, '--duration=1h'])).trim();
  const play = async (chart: string, image: string) => {
    const rendered = await helm([
      'template',
      release,
      chart,
      '-n',
      namespace,
      ...localImageValues(image),
      '--show-only',
      'templates/deployment.yaml',
      '--show-only',
      'templates/pvc.yaml',
    ]);
    const pod = await playChartPod({
      rendered,
      namespace,
      secrets: { 'tw-api-key/api-key': API_KEY },
      kubernetes: { token: await token(), ...apiServerOf(process.env.KUBECONFIG!) },
    });
    pods.push(pod);
    await pod.probed();
    return pod;
  };

  before(async () => {
    for (const [name, value] of Object.entries({ TW_IMAGE: IMAGE, TW_PREVIOUS_IMAGE: PREVIOUS_IMAGE, TW_PREVIOUS_CHART: PREVIOUS_CHART })) {
      if (!value)
        throw new Error(`${name} is not set: run scripts/image-test.sh (npm run test:image), which builds both images and extracts the previous chart`);
    }
    // The previous chart installed the CRD from crds/: present, owned by no release.
    await installCrd();
    namespace = await createTestNamespace();
    release = `up-${randomBytes(3).toString('hex')}`;
    claim = `${release}-tw-webhooks-data`;
    await kubectl(['create', 'secret', 'generic', 'tw-api-key', '-n', namespace, `--from-literal=api-key=${API_KEY}`]);
  });

  after(async () => {
    for (const pod of pods) await pod.remove().catch(() => undefined);
    if (claim) await removeClaimVolume(claim);
  });

  const stored: { incident_id: string; incident_number: string }[] = [];
  let sourceUid: string;

  it('the previous release serves a WebhookSource and stores incidents', async () => {
    await helm(['install', release, PREVIOUS_CHART!, '-n', namespace, ...localImageValues(PREVIOUS_IMAGE!)]);
    await apply([secret(namespace, 'carried', { secret: 'carried-secret' }), webhookSource(namespace, 'carried', { secretRef: { name: 'carried' } })]);
    const previous = await play(PREVIOUS_CHART!, PREVIOUS_IMAGE!);
    await waitFor('Ready', async () => (condition(await getWebhookSource(namespace, 'carried'), 'Ready')?.status === 'True' ? true : undefined), 60_000);
    for (const alert of ['up-1', 'up-2']) {
      const accepted = await send(previous.url, alert);
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      stored.push(accepted.body);
    }
    assert.deepEqual(
      stored.map((incident) => incident.incident_number.replace(/^INC-\d{4}-/, '')),
      ['0001', '0002'],
    );
    sourceUid = (await getWebhookSource(namespace, 'carried')).metadata.uid;
    assert.equal(await previous.stop(), 0);
    await previous.remove();
  });

  it('helm upgrade --take-ownership makes the CRD the release’s, keeps it, drops the cluster-wide Secret read, and keeps the claim’s size', async () => {
    const before = JSON.parse(await kubectl(['get', CRD, '-o', 'json'])) as { metadata: { labels?: Record<string, string> } };
    assert.notEqual(before.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', 'the previous chart left the CRD unowned (crds/)');
    assert.ok((await kubectl(['get', 'clusterrole', `${release}-tw-webhooks-sources`, '-o', 'name'])).trim(), 'the previous release read Secrets cluster-wide');
    await helm(['upgrade', release, chartDir, '-n', namespace, '--take-ownership', ...localImageValues(IMAGE!)]);
    const crd = JSON.parse(await kubectl(['get', CRD, '-o', 'json'])) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    assert.equal(crd.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
    assert.equal(crd.metadata.annotations['meta.helm.sh/release-name'], release);
    assert.equal(crd.metadata.annotations['helm.sh/resource-policy'], 'keep');
    const clusterRole = await kubectl(['get', 'clusterrole', `${release}-tw-webhooks-sources`]).then(
      () => 'present',
      (error: { stderr?: string }) => String(error.stderr),
    );
    assert.match(clusterRole, /NotFound/);
    assert.equal(
      (await kubectl(['get', 'role', `${release}-tw-webhooks-sources`, '-n', namespace, '-o', 'name'])).trim(),
      `role.rbac.authorization.k8s.io/${release}-tw-webhooks-sources`,
    );
    const pvc = JSON.parse(await kubectl(['get', 'pvc', claim, '-n', namespace, '-o', 'json'])) as { spec: { resources: { requests: { storage: string } } } };
    assert.equal(pvc.spec.resources.requests.storage, '1Gi', 'the previous default; the new 10Gi is for new claims');
    const source = await getWebhookSource(namespace, 'carried');
    assert.equal(source.metadata.uid, sourceUid, 'the same WebhookSource, never recreated');
    assert.equal(
      JSON.parse(await kubectl(['get', 'secret', 'carried', '-n', namespace, '-o', 'json'])).data.secret,
      Buffer.from('carried-secret').toString('base64'),
    );
  });

  it("this release's pod on the same claim serves the source, reads the incidents back and numbers on", async () => {
    const current = await play(chartDir, IMAGE!);
    for (const incident of stored) {
      const read = await fetch(`${current.url}/api/incidents/${incident.incident_id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(read.status, 200);
      assert.equal(((await read.json()) as { incident_number: string }).incident_number, incident.incident_number);
    }
    const repeat = await send(current.url, 'up-1');
    assert.deepEqual([repeat.status, repeat.body.duplicate, repeat.body.incident_id], [200, true, stored[0]!.incident_id]);
    const next = await send(current.url, 'up-3');
    assert.equal(next.status, 201);
    assert.match(next.body.incident_number, /^INC-\d{4}-0003$/);
    await waitFor('status written by the new pod', async () => {
      const ready = condition(await getWebhookSource(namespace, 'carried'), 'Ready');
      return ready?.status === 'True' ? true : undefined;
    });
    assert.equal(await current.stop(), 0);
  });

  it('a changed CRD schema reaches the cluster through helm upgrade alone', async () => {
    const changed = join(mkdtempSync(join(tmpdir(), 'tw-chart-')), 'tw-webhooks');
    cpSync(chartDir, changed, { recursive: true });
    const crdDir = join(changed, 'files/crds');
    const file = join(crdDir, readdirSync(crdDir)[0]!);
    // One more printer column: a schema change, harmless to every object.
    const text = readFileSync(file, 'utf8').replace(
      '      additionalPrinterColumns:\n',
      '      additionalPrinterColumns:\n        - name: Upgraded\n          type: string\n          jsonPath: .spec.sourceName\n',
    );
    assert.notEqual(text, readFileSync(file, 'utf8'));
    writeFileSync(file, text);
    await helm(['upgrade', release, changed, '-n', namespace, ...localImageValues(IMAGE!)]);
    const columns = JSON.parse(await kubectl(['get', CRD, '-o', 'json'])).spec.versions[0].additionalPrinterColumns.map(
      (column: { name: string }) => column.name,
    );
    assert.ok(columns.includes('Upgraded'), JSON.stringify(columns));
    assert.equal((await getWebhookSource(namespace, 'carried')).metadata.uid, sourceUid);
    // Back to this chart's schema, for whatever runs next on this API server.
    await helm(['upgrade', release, chartDir, '-n', namespace, ...localImageValues(IMAGE!)]);
  });
});
