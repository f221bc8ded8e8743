/**
 * The chart as a platform team installs it: lint-clean, every rendering (defaults and every feature
 * on) accepted by the real kube-apiserver (`kubectl apply --dry-run=server`, with prometheus-operator's
 * own CRDs installed), restricted Pod Security with no warning, bad values refused, and everything
 * derived from it (the CRD copy, the README values table, manifests/) identical to a fresh render.
 * The planes: on the embedded store one pod with two listeners, with MongoDB a receiver and a control
 * Deployment; either way the public Service and the Ingress reach only the receiver listener.
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
import { waitFor } from '../helpers/wait.js';
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

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
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

function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.ok(found, `rendered ${kind} ${name ?? ''}`);
  return found;
}

type EnvVar = { name: string; value?: string; valueFrom?: unknown };
type Container = { env: EnvVar[]; ports: { name: string; containerPort: number }[]; [key: string]: any };

function containerOf(deployment: Manifest): Container {
  return deployment.spec.template.spec.containers[0] as Container;
}

function envOf(container: Container): Record<string, unknown> {
  return Object.fromEntries(container.env.map((e) => [e.name, e.value ?? e.valueFrom]));
}

function portsOf(service: Manifest): [string, number, string][] {
  return service.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [p.name, p.port, p.targetPort]);
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
    // kubectl wait fails at once on a CRD that has no status yet (a loaded API server), hence the retries.
    await waitFor(
      () =>
        run(kubectlBin(), [
          'wait',
          '--for=condition=Established',
          'crd/servicemonitors.monitoring.coreos.com',
          'crd/prometheusrules.monitoring.coreos.com',
          '--timeout=60s',
        ]).then(() => true),
      { message: 'the prometheus-operator CRDs Established', timeoutMs: 90_000, intervalMs: 500 },
    );
  });

  it('passes `helm lint --strict` with its defaults and with values-production.yaml', async () => {
    await run(helmBin(), ['lint', '--strict', chartDir]);
    await run(helmBin(), ['lint', '--strict', chartDir, '-f', join(chartDir, 'values-production.yaml')]);
  });

  it('installs with no values: one pod with both planes and two listeners, embedded store on a claim, Recreate, accepted without Pod Security warnings', async () => {
    const namespace = await restrictedNamespace();
    const rendered = await helmTemplate(helmBin(), [], 'tw-webhooks', namespace);
    const manifests = parse(rendered);
    assert.deepEqual(kinds(manifests), [
      'CustomResourceDefinition',
      'Deployment',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'Service',
      'ServiceAccount',
    ]);
    const deployment = find(manifests, 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, 'Recreate');
    const pod = deployment.spec.template.spec;
    assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName, 'tw-webhooks-data');
    assert.equal(find(manifests, 'PersistentVolumeClaim').spec.resources.requests.storage, '10Gi');
    const container = containerOf(deployment);
    const env = envOf(container);
    assert.equal(env.TW_KUBERNETES, 'true');
    assert.equal(env.TW_MODE, 'all');
    assert.deepEqual([env.PORT, env.TW_RECEIVER_PORT], ['8080', '8081']);
    assert.deepEqual(
      container.ports.map((p) => [p.name, p.containerPort]),
      [
        ['http', 8080],
        ['receiver', 8081],
      ],
    );
    assert.equal(env.TW_WATCH_NAMESPACES, namespace, 'the release namespace only');
    assert.deepEqual(env.TW_POD_NAME, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(env.TW_NAMESPACE, { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.equal(env.MONGODB_URI, undefined);
    // One pod: nobody else takes its traffic, so no drain delay; the grace period covers the 10 s of in-flight requests.
    assert.equal(env.TW_DRAIN_DELAY_SECONDS, '0');
    assert.equal(pod.terminationGracePeriodSeconds, 45);
    assert.deepEqual([env.TW_RETENTION_DAYS, env.TW_RAW_BODY_RETENTION_DAYS], ['180', '30'], 'retention sized for the default claim');
    assert.deepEqual(
      [container.startupProbe.httpGet.path, container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path],
      ['/healthz', '/healthz', '/readyz'],
    );
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort(), ['/tmp', '/var/lib/tw-webhooks']);
    assert.ok(pod.affinity.podAntiAffinity, 'pod anti-affinity');
    assert.equal(pod.topologySpreadConstraints.length, 2);
    // Public: the receiver listener only. Control (inside the cluster): the /api routes and /metrics.
    assert.deepEqual(portsOf(find(manifests, 'Service', 'tw-webhooks')), [['http', 8080, 'receiver']]);
    assert.deepEqual(portsOf(find(manifests, 'Service', 'tw-webhooks-control')), [
      ['http', 8080, 'http'],
      ['metrics', 9090, 'http'],
    ]);
    assert.equal(find(manifests, 'Service', 'tw-webhooks-control').spec.type, 'ClusterIP');
    const policy = find(manifests, 'NetworkPolicy');
    assert.deepEqual(policy.spec.ingress, [
      { ports: [{ port: 'receiver', protocol: 'TCP' }] },
      { ports: [{ port: 'http', protocol: 'TCP' }], from: [{ namespaceSelector: {} }] },
    ]);
    const crd = find(manifests, 'CustomResourceDefinition');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep', 'the CRD outlives an uninstall');

    const warnings = await dryRunOnServer(rendered);
    assert.doesNotMatch(warnings, /PodSecurity|violate/i, warnings);
  });

  it('installs with `helm install` and prints the webhook URL pattern and the next commands', async () => {
    const namespace = await restrictedNamespace();
    // The shared test API server already has the CRD (unowned); the upgrade test covers the chart's own.
    const { stdout } = await run(helmBin(), ['install', 'tw-notes', chartDir, '--namespace', namespace, '--set', 'crds.install=false'], { maxBuffer: 4 << 20 });
    assert.match(stdout, /STATUS: deployed/);
    assert.match(stdout, new RegExp(`http://tw-notes-tw-webhooks\\.${namespace}\\.svc:8080/api/webhooks/<source>`));
    assert.match(stdout, new RegExp(`kubectl -n ${namespace} rollout status deployment/tw-notes-tw-webhooks`));
    assert.match(stdout, /kubectl get webhooksources -A/);
    const { stdout: deployed } = await run(kubectlBin(), ['get', 'deployment,pvc,service,serviceaccount', '-n', namespace, '-o', 'name']);
    assert.deepEqual(deployed.trim().split('\n').sort(), [
      'deployment.apps/tw-notes-tw-webhooks',
      'persistentvolumeclaim/tw-notes-tw-webhooks-data',
      'service/tw-notes-tw-webhooks',
      'service/tw-notes-tw-webhooks-control',
      'serviceaccount/tw-notes-tw-webhooks',
    ]);
  });

  it('renders every feature on (MongoDB, the planes apart, namespaced RBAC, monitoring, ingress, policies, autoscaling) and the API server accepts it', async () => {
    const namespace = await restrictedNamespace();
    const watched = [await createTestNamespace(), await createTestNamespace()];
    // A dry run cannot create a namespace for the objects to go into: the registration namespace exists already.
    const registrationNamespace = await createTestNamespace();
    const args = [
      '--set',
      'replicaCount=3',
      '--set',
      'control.replicaCount=2',
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
      '--set',
      `registrationApi.namespace=${registrationNamespace}`,
      '--set',
      'registrationApi.createNamespace=false',
    ];
    const rendered = await helmTemplate(helmBin(), args, 'tw-webhooks', namespace);
    const manifests = parse(rendered);
    assert.deepEqual(kinds(manifests), [
      'ConfigMap',
      'ConfigMap',
      'CustomResourceDefinition',
      'Deployment',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'PrometheusRule',
      ...Array(8).fill('Role'),
      ...Array(8).fill('RoleBinding'),
      'Secret',
      'Service',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const receiver = find(manifests, 'Deployment', 'tw-webhooks');
    const control = find(manifests, 'Deployment', 'tw-webhooks-control');
    assert.equal(receiver.spec.strategy.type, 'RollingUpdate');
    assert.equal(receiver.spec.replicas, undefined, 'the HPA owns the receivers');
    assert.equal(find(manifests, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name, 'tw-webhooks');
    assert.equal(control.spec.replicas, 2);
    // The receiver Deployment keeps the selector of earlier releases; the control pods are outside it.
    assert.deepEqual(receiver.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'tw-webhooks', 'app.kubernetes.io/instance': 'tw-webhooks' });
    assert.deepEqual(control.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'tw-webhooks-control', 'app.kubernetes.io/instance': 'tw-webhooks' });
    assert.equal(receiver.spec.template.spec.serviceAccountName, 'tw-webhooks');
    assert.equal(control.spec.template.spec.serviceAccountName, 'tw-webhooks-control');

    const receiverEnv = envOf(containerOf(receiver));
    const controlEnv = envOf(containerOf(control));
    assert.deepEqual([receiverEnv.TW_MODE, receiverEnv.TW_RECEIVER_PORT], ['receiver', '8081']);
    assert.deepEqual([controlEnv.TW_MODE, controlEnv.TW_RECEIVER_PORT], ['control', undefined]);
    for (const env of [receiverEnv, controlEnv]) {
      assert.equal((env.MONGODB_URI as { secretKeyRef: { name: string } }).secretKeyRef.name, 'tw-webhooks-mongodb');
      assert.equal(env.TW_WATCH_NAMESPACES, [...watched, registrationNamespace].join(','));
      assert.equal(env.TW_DRAIN_DELAY_SECONDS, '15', 'another pod takes the traffic: drain for longer than readiness takes to notice');
    }
    // API keys, registration and the Lease belong to the control plane alone.
    assert.deepEqual([receiverEnv.TW_API_TOKEN, receiverEnv.TW_REGISTRATION_API, receiverEnv.TW_LEASE_DURATION_SECONDS], [undefined, undefined, undefined]);
    assert.equal(controlEnv.TW_REGISTRATION_API, 'true');
    assert.equal(controlEnv.TW_REGISTRATION_NAMESPACE, registrationNamespace);
    assert.ok(controlEnv.TW_API_TOKEN);
    assert.deepEqual(
      containerOf(receiver).ports.map((p) => p.name),
      ['http', 'receiver'],
    );
    assert.deepEqual(
      containerOf(control).ports.map((p) => p.name),
      ['http'],
    );
    assert.equal(containerOf(receiver).readinessProbe.httpGet.port, 'receiver', 'a receiver is probed on the listener it serves');
    assert.equal(containerOf(control).readinessProbe.httpGet.port, 'http');

    // Public: the Ingress → the public Service → the receivers' receiver listener, nothing else.
    const ingress = find(manifests, 'Ingress');
    assert.deepEqual(
      ingress.spec.rules[0].http.paths.map((p: any) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.name]),
      [['/api/webhooks/', 'Prefix', 'tw-webhooks', 'http']],
    );
    const publicService = find(manifests, 'Service', 'tw-webhooks');
    assert.deepEqual(portsOf(publicService), [['http', 8080, 'receiver']]);
    assert.deepEqual(publicService.spec.selector, receiver.spec.selector.matchLabels);
    const controlService = find(manifests, 'Service', 'tw-webhooks-control');
    assert.deepEqual(controlService.spec.selector, control.spec.selector.matchLabels);
    assert.equal(controlService.spec.type, 'ClusterIP');
    const receiverMetrics = find(manifests, 'Service', 'tw-webhooks-receiver-metrics');
    assert.equal(receiverMetrics.spec.clusterIP, 'None');
    assert.deepEqual(portsOf(receiverMetrics), [['metrics', 9090, 'http']]);
    // The ServiceMonitor scrapes both planes under one job name.
    const monitor = find(manifests, 'ServiceMonitor');
    const selected = manifests.filter(
      (m) =>
        m.kind === 'Service' &&
        Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(([key, value]) => m.metadata.labels?.[key] === value),
    );
    assert.deepEqual(selected.map((m) => m.metadata.name).sort(), ['tw-webhooks-control', 'tw-webhooks-receiver-metrics']);
    assert.equal(monitor.spec.jobLabel, 'triagewarden.io/metrics-job');
    assert.ok(selected.every((m) => m.metadata.labels?.['triagewarden.io/metrics-job'] === 'tw-webhooks'));
    // The control plane only from inside the cluster; the receivers' receiver port from anywhere.
    const controlPolicy = find(manifests, 'NetworkPolicy', 'tw-webhooks-control');
    assert.deepEqual(controlPolicy.spec.podSelector.matchLabels, control.spec.selector.matchLabels);
    assert.deepEqual(controlPolicy.spec.ingress, [{ ports: [{ port: 'http', protocol: 'TCP' }], from: [{ namespaceSelector: {} }] }]);
    assert.deepEqual(
      find(manifests, 'NetworkPolicy', 'tw-webhooks').spec.ingress.map((rule: { ports: { port: string }[] }) => rule.ports[0]!.port),
      ['receiver', 'http'],
    );

    assert.deepEqual(
      manifests
        .filter((m) => m.kind === 'Role')
        .map((m) => m.metadata.namespace)
        .sort(),
      [namespace, ...[...watched, registrationNamespace].flatMap((where) => [where, where]), registrationNamespace].sort(),
    );
    const dashboard = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard === '1');
    assert.ok(dashboard, 'dashboard ConfigMap labelled for the Grafana sidecar');

    const warnings = await dryRunOnServer(rendered);
    assert.doesNotMatch(warnings, /PodSecurity|violate/i, warnings);
  });

  it('renders the ServiceMonitor and PrometheusRule when enabled, with no cluster to ask (a GitOps render)', async () => {
    const on = ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true'];
    const monitoring = (manifests: Manifest[]) => kinds(manifests).filter((kind) => kind === 'ServiceMonitor' || kind === 'PrometheusRule');
    // helm template asks no API server; the KUBECONFIG of the test run is hidden to make that certain.
    const { stdout } = await run(helmBin(), ['template', 'tw-webhooks', chartDir, ...on], {
      env: { ...process.env, KUBECONFIG: '/nonexistent' },
      maxBuffer: 16 << 20,
    });
    assert.deepEqual(monitoring(parse(stdout)), ['PrometheusRule', 'ServiceMonitor']);
    assert.deepEqual(monitoring(parse(await helmTemplate(helmBin(), []))), []);
  });

  it('refuses a grace period shorter than the drain delay and the in-flight grace, saying why', async () => {
    assert.match(
      await helmFails(['--set', 'drainDelaySeconds=40', '--set', 'terminationGracePeriodSeconds=45']),
      /terminationGracePeriodSeconds \(45\) must be at least the drain delay \(40\) \+ 15/,
    );
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
        ['tw-webhooks-data', '10Gi'],
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
