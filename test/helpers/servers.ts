/**
 * The real servers tests talk to, as `npm test` (test/run.ts) exports them: one start per run,
 * isolation per test through fresh namespaces and databases. A missing server is a failure with
 * the way to get it, never a skip.
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const howToGet: Record<string, string> = {
  KUBECONFIG: 'kube',
  KUBECTL: 'kube',
  HELM_BIN: 'helm',
  MONGODB_URI: 'mongo',
  PROMETHEUS_OPERATOR_CRDS: 'monitoring-crds',
};

function requireEnv(name: keyof typeof howToGet): string {
  const value = process.env[name];
  if (value) return value;
  throw new Error(
    `${name} is not set. Run the tests with \`npm test\` (it starts the servers), or start them yourself: ` +
      `eval "$(npm run -s infra -- up ${howToGet[name]})"`,
  );
}

/** A client config for the API server `npm test` started, authenticated as a cluster admin. */
export function kubeFromEnv(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(requireEnv('KUBECONFIG'));
  return kubeConfig;
}

/**
 * A fresh namespace for one test. No controller-manager runs, so deleting it would leave it
 * Terminating forever; the whole etcd is thrown away after the run instead.
 */
export async function createTestNamespace(kubeConfig = kubeFromEnv(), prefix = 'tw-test'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** The kubectl matching the API server's version (KUBECONFIG already points it at the server). */
export function kubectlBin(): string {
  return requireEnv('KUBECTL');
}

export function helmBin(): string {
  return requireEnv('HELM_BIN');
}

/** The MongoDB-wire server's URI and a database name no other test uses. */
export function mongoFromEnv(prefix = 'tw_test'): { uri: string; database: string } {
  return { uri: requireEnv('MONGODB_URI'), database: `${prefix}_${randomBytes(5).toString('hex')}` };
}

/** The folder with the ServiceMonitor and PrometheusRule CRDs (prometheus-operator's own files). */
export function prometheusOperatorCrdsDir(): string {
  return requireEnv('PROMETHEUS_OPERATOR_CRDS');
}
