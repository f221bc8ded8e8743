/**
 * The chart as a platform team installs it: lint-clean, every rendering (defaults and every feature
 * on) accepted by the real kube-apiserver (`kubectl apply --dry-run=server`, with prometheus-operator's
 * own CRDs installed), restricted Pod Security with no warning, bad values refused, and everything
 * derived from it (the CRD copy, the README values table, manifests/) identical to a fresh render.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { createTestNamespace, helmBin, kubectlBin, needs, prometheusOperatorCrdsDir } from '../helpers/servers.js';
import {
  chartCrdDir,
  chartDir,
  chartReadme,
  crdSources,
  helmTemplate,
  installManifest,
  readmeWithValuesTable,
  renderInstallManifest,
  repoRoot,
} from '../deploy/chart.js';

await needs('kube', 'helm', 'monitoring-crds');

const run = promisify(execFile);
const MONITORING_API = ['--api-versions', 'monitoring.coreos.com/v1'];

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: any;
  rules?: any;
};

function parse(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as Manifest)
    .filter((doc) => doc !== null);
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => m.kind).sort();
}

function find(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.find((m) => m.kind === kind);
  assert.ok(found, `rendered ${kind}`);
  return found;
}

/** Server-side dry run of rendered YAML; returns kubectl's stderr (admission warnings). */
async function dryRunOnServer(yamlText: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'tw-helm-')), 'rendered.yaml');
  writeFileSync(file, yamlText);
  const { stderr } = await run(kubectlBin(), ['apply', '--dry-run=server', '-f', file], { maxBuffer: 16 << 20 });
  return stderr;
}

async function helmFails(args: readonly string[]): Promise<string> {
  try {
    await helmTemplate(helmBin(), args);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  assert.fail(`helm template ${args.join(' ')} should have failed`);
}

/** A namespace labelled to enforce the restricted Pod Security profile. */
async function restrictedNamespace(): Promise<string> {
  const namespace = await createTestNamespace();
  await run(kubectlBin(), ['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
  return namespace;
}

describe('the Helm chart', () => {
  before(async () => {
    // The ServiceMonitor and PrometheusRule kinds, from prometheus-operator's own CRD files.
    await run(kubectlBin(), ['apply', '--server-side', '-f', prometheusOperatorCrdsDir()], { maxBuffer: 16 << 20 });
    await run(kubectlBin(), [
      'wait',
      '--for=condition=Established',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
      '--timeout=60s',
    ]);
  });

  it('passes `helm lint --strict` with its defaults and with values-production.yaml', async () => {
    await run(helmBin(), ['lint', '--strict', chartDir]);
    await run(helmBin(), ['lint', '--strict', chartDir, '-f', join(chartDir, 'values-production.yaml')]);
  });

  it('installs with no values: one replica, embedded store on a claim, Recreate, accepted by the API server without Pod Security warnings', async () => {
    const namespace = await restrictedNamespace();
    const rendered = await helmTemplate(helmBin(), ['--include-crds'], 'tw-webhooks', namespace);
    const manifests = parse(rendered);
    assert.deepEqual(kinds(manifests), [
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'PersistentVolumeClaim',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const deployment = find(manifests, 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, 'Recreate');
    const pod = deployment.spec.template.spec;
    assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName, 'tw-webhooks-data');
    const container = pod.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.TW_KUBERNETES, 'true');
    assert.deepEqual(env.TW_POD_NAME, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(env.TW_NAMESPACE, { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.equal(env.MONGODB_URI, undefined);
    assert.deepEqual([env.TW_RETENTION_DAYS, env.TW_RAW_BODY_RETENTION_DAYS], ['180', '30'], 'retention sized for the 1Gi claim');
    assert.ok(pod.terminationGracePeriodSeconds > 10, 'longer than the 10 s drain');
    assert.deepEqual(
      [container.startupProbe.httpGet.path, container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path],
      ['/healthz', '/healthz', '/readyz'],
    );
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort(), ['/tmp', '/var/lib/tw-webhooks']);
    assert.ok(pod.affinity.podAntiAffinity, 'pod anti-affinity');
    assert.equal(pod.topologySpreadConstraints.length, 2);
    assert.deepEqual(
      find(manifests, 'Service').spec.ports.map((p: { name: string }) => p.name),
      ['http', 'metrics'],
    );

    const warnings = await dryRunOnServer(rendered);
    assert.doesNotMatch(warnings, /PodSecurity|violate/i, warnings);
  });

  it('installs with `helm install` and prints the webhook URL pattern and the next commands', async () => {
    const namespace = await restrictedNamespace();
    const { stdout } = await run(helmBin(), ['install', 'tw-notes', chartDir, '--namespace', namespace], { maxBuffer: 4 << 20 });
    assert.match(stdout, /STATUS: deployed/);
    assert.match(stdout, new RegExp(`http://tw-notes-tw-webhooks\\.${namespace}\\.svc:8080/api/webhooks/<source>`));
    assert.match(stdout, new RegExp(`kubectl -n ${namespace} rollout status deployment/tw-notes-tw-webhooks`));
    assert.match(stdout, /kubectl get webhooksources -A/);
    const { stdout: deployed } = await run(kubectlBin(), ['get', 'deployment,pvc,service,serviceaccount', '-n', namespace, '-o', 'name']);
    assert.deepEqual(deployed.trim().split('\n').sort(), [
      'deployment.apps/tw-notes-tw-webhooks',
      'persistentvolumeclaim/tw-notes-tw-webhooks-data',
      'service/tw-notes-tw-webhooks',
      'serviceaccount/tw-notes-tw-webhooks',
    ]);
  });

  it('renders every feature on (MongoDB, 3 replicas, namespaced RBAC, monitoring, ingress, policies, autoscaling) and the API server accepts it', async () => {
    const namespace = await restrictedNamespace();
    const watched = [await createTestNamespace(), await createTestNamespace()];
    const args = [
      ...MONITORING_API,
      '--set',
      'replicaCount=3',
      '--set',
      'mongodb.uri=mongodb://mongo-0.mongo:27017/tw?replicaSet=rs0',
      '--set',
      `watchNamespaces={${watched.join(',')}}`,
      '--set',
      'apiKey.existingSecret.name=tw-api-key',
      '--set',
      'ingress.enabled=true',
      '--set',
      'ingress.className=nginx',
      '--set',
      'networkPolicy.enabled=true',
      '--set',
      'podDisruptionBudget.enabled=true',
      '--set',
      'autoscaling.enabled=true',
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.grafanaDashboard.enabled=true',
      '--set',
      'config.sources.email-gateway.secret=${EMAIL_GATEWAY_SECRET}',
      '--set',
      'trustedProxies={10.0.0.0/8}',
      '--set',
      'extraEnv[0].name=EMAIL_GATEWAY_SECRET',
      '--set',
      'extraEnv[0].valueFrom.secretKeyRef.name=email-gateway',
      '--set',
      'extraEnv[0].valueFrom.secretKeyRef.key=secret',
      '--set',
      'registrationApi.enabled=true',
    ];
    const rendered = await helmTemplate(helmBin(), args, 'tw-webhooks', namespace);
    const manifests = parse(rendered);
    assert.deepEqual(kinds(manifests), [
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Role',
      'Role',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'RoleBinding',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const deployment = find(manifests, 'Deployment');
    assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
    assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
    const env = deployment.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: any }[];
    assert.equal(env.find((e) => e.name === 'MONGODB_URI')?.valueFrom.secretKeyRef.name, 'tw-webhooks-mongodb');
    assert.equal(env.find((e) => e.name === 'TW_WATCH_NAMESPACES')?.value, watched.join(','));
    assert.equal(env.find((e) => e.name === 'TW_REGISTRATION_API')?.value, 'true');
    assert.deepEqual(
      manifests
        .filter((m) => m.kind === 'Role')
        .map((m) => m.metadata.namespace)
        .sort(),
      [namespace, namespace, ...watched].sort(),
    );
    const registration = manifests.find((m) => m.kind === 'Role' && m.metadata.name.endsWith('-registration'));
    assert.deepEqual(
      registration?.rules.map((rule: { resources: string[]; verbs: string[] }) => [rule.resources, rule.verbs]),
      [
        [['webhooksources'], ['get', 'create', 'patch', 'delete']],
        [['secrets'], ['get', 'create', 'patch', 'delete']],
      ],
    );
    const dashboard = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard === '1');
    assert.ok(dashboard, 'dashboard ConfigMap labelled for the Grafana sidecar');

    const warnings = await dryRunOnServer(rendered);
    assert.doesNotMatch(warnings, /PodSecurity|violate/i, warnings);
  });

  it('renders ServiceMonitor and PrometheusRule only where monitoring.coreos.com/v1 is served', async () => {
    const on = ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true'];
    const monitoring = (manifests: Manifest[]) => kinds(manifests).filter((kind) => kind === 'ServiceMonitor' || kind === 'PrometheusRule');
    assert.deepEqual(monitoring(parse(await helmTemplate(helmBin(), on))), []);
    assert.deepEqual(monitoring(parse(await helmTemplate(helmBin(), [...on, ...MONITORING_API]))), ['PrometheusRule', 'ServiceMonitor']);
  });

  it('refuses more than one replica, or autoscaling, without MongoDB, saying why', async () => {
    for (const args of [
      ['--set', 'replicaCount=2'],
      ['--set', 'autoscaling.enabled=true'],
    ]) {
      assert.match(
        await helmFails(args),
        /needs MongoDB: set mongodb\.uri or mongodb\.existingSecret\.name\. On the embedded store each pod would keep its own data/,
      );
    }
  });

  it('backs the embedded store up onto a claim of its own with backup.enabled, and refuses it with MongoDB', async () => {
    const namespace = await restrictedNamespace();
    const rendered = await helmTemplate(helmBin(), ['--set', 'backup.enabled=true', '--set', 'backup.keep=3'], 'tw-webhooks', namespace);
    const manifests = parse(rendered);
    assert.deepEqual(
      manifests.filter((m) => m.kind === 'PersistentVolumeClaim').map((m) => [m.metadata.name, m.spec.resources.requests.storage]),
      [
        ['tw-webhooks-backups', '8Gi'],
        ['tw-webhooks-data', '1Gi'],
      ],
    );
    const pod = find(manifests, 'Deployment').spec.template.spec;
    assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'backups').persistentVolumeClaim.claimName, 'tw-webhooks-backups');
    const container = pod.containers[0];
    assert.deepEqual(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort(), [
      '/tmp',
      '/var/backups/tw-webhooks',
      '/var/lib/tw-webhooks',
    ]);
    const env = Object.fromEntries(container.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    assert.deepEqual([env.TW_BACKUP_DIR, env.TW_BACKUP_INTERVAL_HOURS, env.TW_BACKUP_KEEP], ['/var/backups/tw-webhooks', '24', '3']);
    const warnings = await dryRunOnServer(rendered);
    assert.doesNotMatch(warnings, /PodSecurity|violate/i, warnings);

    assert.match(
      await helmFails(['--set', 'backup.enabled=true', '--set', 'mongodb.uri=mongodb://db/tw']),
      /backup\.enabled backs up the embedded store; MongoDB is backed up with mongodump/,
    );
  });

  it('refuses raw bodies kept longer than their incidents, saying why', async () => {
    assert.match(
      await helmFails(['--set', 'retention.days=30', '--set', 'retention.rawBodyDays=31']),
      /retention\.rawBodyDays must not exceed retention\.days/,
    );
  });

  it('refuses wrong types and unknown keys through values.schema.json', async () => {
    assert.match(await helmFails(['--set', 'replicaCount=three']), /replicaCount.*(integer|Invalid type)/is);
    assert.match(await helmFails(['--set', 'persistence.enabeld=false']), /additional propert(y|ies).*enabeld/is);
    assert.match(await helmFails(['--set', 'metrics.prometheusRule.sourceSilentFor=6 hours']), /sourceSilentFor/);
    assert.match(await helmFails(['--set', 'image.pullPolicy=Sometimes']), /pullPolicy/);
  });

  it("carries the CRD identical to the repository's crds/ (the one source)", () => {
    const chartCopies = readdirSync(chartCrdDir).sort();
    const sources = crdSources();
    assert.deepEqual(chartCopies, [...sources.keys()], 'same files: run `npm run render:manifests`');
    for (const [file, text] of sources) {
      assert.equal(readFileSync(join(chartCrdDir, file), 'utf8'), text, `${file} drifted from crds/: run \`npm run render:manifests\``);
    }
  });

  it('documents every value in the README table (regenerated table is identical)', () => {
    assert.equal(readFileSync(chartReadme, 'utf8'), readmeWithValuesTable(), 'stale values table: run `npm run render:manifests`');
  });

  it('has manifests/install.yaml identical to a fresh render of the defaults, and `kubectl apply -f` of it succeeds', async () => {
    const fresh = await renderInstallManifest(helmBin());
    assert.equal(readFileSync(installManifest, 'utf8'), fresh, 'stale manifests/install.yaml: run `npm run render:manifests`');
    // Applied for real (a dry run cannot create the namespace the other objects go into).
    const { stdout, stderr } = await run(kubectlBin(), ['apply', '-f', installManifest], { maxBuffer: 16 << 20 });
    assert.doesNotMatch(stderr, /PodSecurity|violate/i, stderr);
    // Another test (the docs run) may have applied it already: the objects are then configured, not
    // created, so what is checked is that the server now holds exactly the manifest (diff exits 0).
    assert.match(stdout, /namespace\/tw-webhooks (created|unchanged|configured)/);
    assert.match(stdout, /deployment\.apps\/tw-webhooks (created|unchanged|configured)/);
    const diff = await run(kubectlBin(), ['diff', '-f', installManifest], { maxBuffer: 16 << 20 }).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}` || 'kubectl diff failed',
    );
    assert.equal(diff, '', 'the API server holds what manifests/install.yaml says');
  });

  it('has example WebhookSources and labelled Secrets for email-gateway, edr and siem that the API server accepts', async () => {
    const namespace = await createTestNamespace();
    const dir = join(repoRoot, 'manifests/examples');
    const examples = readdirSync(dir)
      .filter((file) => file.endsWith('.yaml'))
      .flatMap((file) => parse(readFileSync(join(dir, file), 'utf8')));
    const sources = examples.filter((m) => m.kind === 'WebhookSource');
    assert.deepEqual(sources.map((s) => [s.spec.sourceName, s.spec.playbook ?? null]).sort(), [
      ['edr', 'malware_triage'],
      ['email-gateway', 'phishing_triage'],
      ['siem', null],
    ]);
    for (const source of sources) {
      const secret = examples.find((m) => m.kind === 'Secret' && m.metadata.name === source.spec.secretRef.name);
      assert.equal(secret?.metadata.labels?.['triagewarden.io/webhook-secret'], 'true', `labelled Secret for ${source.metadata.name}`);
    }
    await run(kubectlBin(), ['apply', '-f', join(repoRoot, 'crds')]);
    await run(kubectlBin(), ['wait', '--for=condition=Established', 'crd/webhooksources.triagewarden.io', '--timeout=60s']);
    await run(kubectlBin(), ['apply', '--dry-run=server', '-n', namespace, '-f', dir]);
  });
});
