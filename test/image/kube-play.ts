/**
 * The chart's rendered pod, run for real with `podman kube play` (there is no kubelet here): the
 * Deployment's pod template and its claim as they are, with the few changes podman needs or a
 * kubelet would make, each named below. What stays is what matters: the image, the user, the
 * read-only root, the claim at the data directory, /tmp, the env, the ServiceAccount token mount.
 *
 * - host network (`--network host`), so the container ports go, and PORT / TW_RECEIVER_PORT move to
 *   free ports (the chart's 8080/8081 may be taken on a shared machine);
 * - the probes go (podman would run them inside the container, which has no curl and no shell): the
 *   test asks them over HTTP itself, with the rendered paths, ports and thresholds;
 * - `fieldRef: metadata.namespace` (podman 4.3 has none) and `secretKeyRef` (podman reads no
 *   Kubernetes Secrets) become the values a kubelet would resolve;
 * - the ServiceAccount token is mounted where a kubelet mounts it, with KUBERNETES_SERVICE_HOST/PORT
 *   pointing at the test API server, so the service's in-cluster config is the one it uses in a cluster.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort } from '../infra/process.js';

const run = promisify(execFile);
/** crun fails on these machines (hybrid cgroups, raising limits): runc, with fixed limits. */
const PODMAN = ['--runtime', 'runc'];
const CONTAINERS_CONF = '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: any;
}

export interface PodOptions {
  /** `helm template` output holding one Deployment (and its claim, for the embedded store). */
  rendered: string;
  /** The namespace the pod "runs in": its downward-API value and its token's. */
  namespace: string;
  /** Secret values by `name/key`, for every secretKeyRef of the container. */
  secrets?: Record<string, string>;
  /** In Kubernetes mode: a token of the pod's ServiceAccount, the API server's URL and CA. */
  kubernetes?: { token: string; server: string; caCert: string };
}

export interface PlayedPod {
  name: string;
  container: string;
  /** PORT's listener. */
  url: string;
  /** TW_RECEIVER_PORT's listener, when the pod has one. */
  receiverUrl: string | undefined;
  /** Waits for the startup probe, then readiness, then checks liveness, each as the kubelet would ask it. */
  probed(): Promise<void>;
  /** `node -e script` inside the container (the image has nothing else to run). */
  node(script: string): Promise<string>;
  logs(): Promise<string>;
  /** SIGTERM with the rendered grace period; resolves with the container's exit code. */
  stop(): Promise<number>;
  /** Removes the pod (the claim's volume stays). */
  remove(): Promise<void>;
}

/** Each podman call is bounded (a stop waits out the grace period), so a stuck runtime fails the test instead of stalling CI. */
const PODMAN_TIMEOUT_MS = 120_000;

function podman(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  return run('podman', [...PODMAN, ...args], { env, maxBuffer: 32 << 20, timeout: PODMAN_TIMEOUT_MS });
}

/** The chart values that run a locally built image (`repository:tag`, never pulled) with the API key from the Secret `tw-api-key`. */
export function localImageValues(image: string): string[] {
  const [repository, tag] = image.split(/:(?=[^:/]+$)/);
  return [
    '--set',
    `image.repository=${repository}`,
    '--set',
    `image.tag=${tag}`,
    '--set',
    'image.pullPolicy=Never',
    '--set',
    'apiKey.existingSecret.name=tw-api-key',
  ];
}

/** The admin kubeconfig's server URL and CA, for a ServiceAccount's in-cluster config. */
export function apiServerOf(kubeconfigFile: string): { server: string; caCert: string } {
  const config = JSON.parse(readFileSync(kubeconfigFile, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cluster = config.clusters[0]!.cluster;
  return { server: cluster.server, caCert: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') };
}

export async function playChartPod(options: PodOptions): Promise<PlayedPod> {
  const manifests = parseAllDocuments(options.rendered)
    .map((document) => document.toJS() as Manifest)
    .filter((manifest) => manifest !== null);
  const deployments = manifests.filter((manifest) => manifest.kind === 'Deployment');
  if (deployments.length !== 1) throw new Error(`expected one Deployment in the rendering, got ${deployments.length}`);
  const deployment = deployments[0]!;
  // A claim outlives its pods: one whose volume exists already is bound to, not created again.
  const claims = [];
  for (const claim of manifests.filter((manifest) => manifest.kind === 'PersistentVolumeClaim')) {
    if (
      !(await podman(['volume', 'exists', claim.metadata.name]).then(
        () => true,
        () => false,
      ))
    )
      claims.push(claim);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'tw-kube-play-'));
  const name = `${deployment.metadata.name}-${Math.random().toString(16).slice(2, 8)}`;

  const spec = structuredClone(deployment.spec.template.spec);
  const container = spec.containers[0];
  const namedPorts = new Map<string, number>();
  const portEnv: Record<string, string> = {};
  for (const port of container.ports as { name: string; containerPort: number }[]) {
    const envName = port.name === 'receiver' ? 'TW_RECEIVER_PORT' : 'PORT';
    const free = await freePort();
    namedPorts.set(port.name, free);
    portEnv[envName] = String(free);
  }
  const probes = { startup: container.startupProbe as Probe, liveness: container.livenessProbe as Probe, readiness: container.readinessProbe as Probe };
  delete container.ports;
  delete container.startupProbe;
  delete container.livenessProbe;
  delete container.readinessProbe;
  container.env = (container.env as EnvVar[]).map((variable): EnvVar => {
    if (portEnv[variable.name] !== undefined) return { name: variable.name, value: portEnv[variable.name] };
    if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') return { name: variable.name, value: options.namespace };
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const value = options.secrets?.[`${ref.name}/${ref.key}`];
      if (value === undefined) throw new Error(`no value given for secretKeyRef ${ref.name}/${ref.key} (${variable.name})`);
      return { name: variable.name, value };
    }
    return variable;
  });
  if (options.kubernetes) {
    const server = new URL(options.kubernetes.server);
    container.env.push({ name: 'KUBERNETES_SERVICE_HOST', value: server.hostname }, { name: 'KUBERNETES_SERVICE_PORT', value: server.port });
    const accountDir = join(workDir, 'serviceaccount');
    mkdirSync(accountDir);
    chmodSync(accountDir, 0o755);
    for (const [file, text] of Object.entries({ token: options.kubernetes.token, 'ca.crt': options.kubernetes.caCert, namespace: options.namespace })) {
      writeFileSync(join(accountDir, file), text, { mode: 0o644 });
    }
    spec.volumes.push({ name: 'serviceaccount', hostPath: { path: accountDir, type: 'Directory' } });
    container.volumeMounts.push({ name: 'serviceaccount', mountPath: SERVICE_ACCOUNT_DIR, readOnly: true });
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: deployment.spec.template.metadata.labels }, spec };
  const file = join(workDir, 'pod.yaml');
  writeFileSync(file, [...claims, pod].map((manifest) => stringify(manifest)).join('---\n'));
  const conf = join(workDir, 'containers.conf');
  writeFileSync(conf, CONTAINERS_CONF);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  await podman(['kube', 'play', '--network', 'host', file], env);

  const containerName = `${name}-${container.name}`;
  const urlOf = (port: number) => `http://127.0.0.1:${port}`;
  const ask = async (probe: Probe) => {
    const port = typeof probe.httpGet.port === 'number' ? probe.httpGet.port : namedPorts.get(probe.httpGet.port);
    if (port === undefined) throw new Error(`probe port ${probe.httpGet.port} is not a port of the container`);
    return fetch(`${urlOf(port)}${probe.httpGet.path}`, { signal: AbortSignal.timeout(3000) }).then(
      (response) => response.status,
      () => 0,
    );
  };
  const until200 = async (what: string, probe: Probe, budgetMs: number) => {
    const deadline = Date.now() + budgetMs;
    for (;;) {
      if ((await ask(probe)) === 200) return;
      if (Date.now() > deadline) throw new Error(`${what} probe (${probe.httpGet.path}) not passed within ${budgetMs} ms:\n${await logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const logs = async () => (await podman(['logs', containerName]).catch((error: { stderr?: string }) => ({ stdout: '', stderr: String(error.stderr) }))).stdout;
  const grace = Number(spec.terminationGracePeriodSeconds ?? 30);
  return {
    name,
    container: containerName,
    url: urlOf(namedPorts.get('http')!),
    receiverUrl: namedPorts.has('receiver') ? urlOf(namedPorts.get('receiver')!) : undefined,
    probed: async () => {
      // The kubelet's budgets: failureThreshold × periodSeconds.
      const budget = (probe: Probe) => (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10) * 1000;
      await until200('startup', probes.startup, budget(probes.startup));
      await until200('readiness', probes.readiness, 60_000);
      if ((await ask(probes.liveness)) !== 200) throw new Error(`liveness probe (${probes.liveness.httpGet.path}) failed`);
    },
    node: async (script) => (await podman(['exec', containerName, 'node', '-e', script])).stdout,
    logs,
    stop: async () => {
      await podman(['pod', 'stop', '--time', String(grace), name]);
      return Number((await podman(['inspect', containerName, '--format', '{{.State.ExitCode}}'])).stdout.trim());
    },
    remove: async () => {
      await podman(['kube', 'down', file], env);
    },
  };
}

/** The podman volume kube play made for a claim (it keeps the claim's name). */
export async function removeClaimVolume(claim: string): Promise<void> {
  await podman(['volume', 'rm', '--force', claim]).catch(() => undefined);
}
