/**
 * The chart's pod runs for real: `helm install` of the default chart on the test API server (its
 * ServiceAccount and RBAC), then the rendered Deployment and claim started with `podman kube play`
 * (test/image/kube-play.ts says what podman needs changed). Together: the read-only root with SQLite
 * on the claim, user 65532, the downward-API variables, the probes, Kubernetes mode through the
 * ServiceAccount token. A WebhookSource becomes Ready and is served, a signed event is stored, and
 * after a restart the incident and its numbering are read back from the claim.
 * scripts/image-test.sh builds the image and sets TW_IMAGE.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { apply, condition, getWebhookSource, installCrd, kubectl, secret, webhookSource } from '../helpers/kube-sources.js';
import { createTestNamespace, helmBin, needs } from '../helpers/servers.js';
import { deliver, genericAlert } from '../helpers/api-client.js';
import { waitFor } from '../helpers/wait.js';
import { chartDir, helmTemplate } from '../deploy/chart.js';
import { apiServerOf, localImageValues, playChartPod, removeClaimVolume, type PlayedPod } from './kube-play.js';

await needs('kube', 'helm');

const run = promisify(execFile);
const IMAGE = process.env.TW_IMAGE;
const API_KEY = `tw_${randomBytes(24).toString('base64url')}`;

describe("the chart's pod, run with podman kube play", () => {
  let namespace: string;
  let release: string;
  let rendered: string;
  let claim: string;
  let kubernetes: { token: string; server: string; caCert: string };
  const pods: PlayedPod[] = [];
  const play = async () => {
    const pod = await playChartPod({ rendered, namespace, kubernetes, secrets: { 'tw-api-key/api-key': API_KEY } });
    pods.push(pod);
    return pod;
  };

  before(async () => {
    if (!IMAGE) throw new Error('TW_IMAGE is not set: run scripts/image-test.sh (npm run test:image), which builds the image and runs this test');
    await installCrd();
    namespace = await createTestNamespace();
    release = `pod-${randomBytes(3).toString('hex')}`;
    const values = localImageValues(IMAGE);
    await kubectl(['create', 'secret', 'generic', 'tw-api-key', '-n', namespace, `--from-literal=api-key=${API_KEY}`]);
    await run(helmBin(), ['install', release, chartDir, '-n', namespace, '--set', 'crds.install=false', ...values]);
    rendered = await helmTemplate(
      helmBin(),
      ['--set', 'crds.install=false', ...values, '--show-only', 'templates/deployment.yaml', '--show-only', 'templates/pvc.yaml'],
      release,
      namespace,
    );
    claim = `${release}-tw-webhooks-data`;
    const token = (await kubectl(['create', 'token', `${release}-tw-webhooks`, '-n', namespace, '--duration=1h'])).trim();
    kubernetes = { token, ...apiServerOf(process.env.KUBECONFIG!) };
    await apply([secret(namespace, 'pod-source', { secret: 'pod-secret' }), webhookSource(namespace, 'pod-source', { secretRef: { name: 'pod-source' } })]);
  });

  after(async () => {
    for (const pod of pods) await pod.remove().catch(() => undefined);
    if (claim) await removeClaimVolume(claim);
  });

  let first: PlayedPod;
  let stored: { incident_id?: string; incident_number?: string };

  it('starts: probes pass, read-only root, user 65532, the claim at the data directory, the downward-API namespace', async () => {
    const started = Date.now();
    first = await play();
    await first.probed();
    process.stderr.write(`pod ready in ${Date.now() - started} ms\n`);
    const facts = JSON.parse(
      await first.node(
        `const fs = require('fs');
         let rootWritable = true; try { fs.writeFileSync('/probe', ''); } catch (e) { rootWritable = e.code; }
         fs.writeFileSync('/var/lib/tw-webhooks/.probe', ''); fs.rmSync('/var/lib/tw-webhooks/.probe');
         fs.writeFileSync('/tmp/.probe', '');
         console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), rootWritable, data: fs.readdirSync('/var/lib/tw-webhooks').sort(),
           namespace: process.env.TW_NAMESPACE, pod: process.env.TW_POD_NAME, mode: process.env.TW_MODE, token: fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token') }));`,
      ),
    ) as Record<string, unknown>;
    assert.deepEqual(facts, {
      uid: 65532,
      gid: 65532,
      rootWritable: 'EROFS',
      // encryption.key: the key the embedded store generates for registered secrets (no TW_ENCRYPTION_KEY set).
      data: [
        'deliveries.sqlite',
        'deliveries.sqlite-shm',
        'deliveries.sqlite-wal',
        'encryption.key',
        'tw-webhooks.sqlite',
        'tw-webhooks.sqlite-shm',
        'tw-webhooks.sqlite-wal',
      ],
      namespace,
      pod: first.name,
      mode: 'all',
      token: true,
    });
    const { stdout: mounts } = await run('podman', [
      '--runtime',
      'runc',
      'inspect',
      first.container,
      '--format',
      '{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}',
    ]);
    assert.match(mounts, new RegExp(`/var/lib/tw-webhooks=${claim}\\b`), 'the claim is the data directory');
  });

  it('in Kubernetes mode through its ServiceAccount token: the WebhookSource is Ready and a signed event is stored', async () => {
    await waitFor(
      'Ready written by the pod',
      async () => (condition(await getWebhookSource(namespace, 'pod-source'), 'Ready')?.status === 'True' ? true : undefined),
      60_000,
    );
    const accepted = await deliver(first.url, 'pod-source', 'pod-secret', genericAlert('pod-1'));
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.match(accepted.body.incident_number ?? '', /^INC-\d{4}-0001$/);
    stored = accepted.body;
    const lease = JSON.parse(await kubectl(['get', 'lease', 'tw-webhooks-leader', '-n', namespace, '-o', 'json'])) as { spec: { holderIdentity: string } };
    assert.equal(lease.spec.holderIdentity, first.name);
  });

  it('answers the signed event on the receiver port too (TW_RECEIVER_PORT), and nothing of the API there', async () => {
    assert.ok(first.receiverUrl);
    const accepted = await deliver(first.receiverUrl, 'pod-source', 'pod-secret', genericAlert('pod-receiver'));
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.match(accepted.body.incident_number ?? '', /^INC-\d{4}-0002$/);
    assert.equal((await fetch(`${first.receiverUrl}/api/incidents`, { headers: { authorization: `Bearer ${API_KEY}` } })).status, 404);
  });

  it('stops on SIGTERM with exit code 0; a new pod on the claim reads the incident back and numbers on', async () => {
    assert.equal(await first.stop(), 0, await first.logs());
    assert.match(await first.logs(), /"msg":"shutting down"/);
    await first.remove();
    const second = await play();
    await second.probed();
    const read = await fetch(`${second.url}/api/incidents/${stored.incident_id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { incident_number: string }).incident_number, stored.incident_number);
    await waitFor(
      'served again',
      async () => ((await deliver(second.url, 'pod-source', 'pod-secret', genericAlert('pod-2'))).status === 201 ? true : undefined),
      60_000,
    ).catch(async (error: Error) => assert.fail(`${error.message}\n${await second.logs()}`));
    const repeat = await deliver(second.url, 'pod-source', 'pod-secret', genericAlert('pod-1'));
    assert.deepEqual([repeat.status, repeat.body.duplicate, repeat.body.incident_id], [200, true, stored.incident_id]);
    const next = await deliver(second.url, 'pod-source', 'pod-secret', genericAlert('pod-3'));
    assert.match(next.body.incident_number ?? '', /^INC-\d{4}-0004$/, 'numbering carries over: 0001 and 0002 before the restart, 0003 and 0004 after');
    assert.equal(await second.stop(), 0);
  });
});
