/**
 * Driving WebhookSources on the real API server for the e2e tests: kubectl for what a user does
 * (apply, delete, wait), the service started in Kubernetes mode against one fresh namespace.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { kubeconfigFile, kubectlBin } from './servers.js';
import { signedHeaders } from './sign.js';

const run = promisify(execFile);
const CRD_FILE = resolve(import.meta.dirname, '../../crds/triagewarden.io_webhooksources.yaml');
export const SECRET_LABEL = { 'triagewarden.io/webhook-secret': 'true' };

/** kubectl with the test run's KUBECONFIG (or the one given); stdin optional. */
export async function kubectl(args: readonly string[], options: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  const env = { ...process.env, ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}) };
  const child = run(kubectlBin(), args, { env, maxBuffer: 64 * 1024 * 1024 });
  if (options.input !== undefined) {
    child.child.stdin!.end(options.input);
  }
  const { stdout } = await child;
  return stdout;
}

/** Applies objects given as plain JS (kubectl reads a JSON List). */
export async function apply(objects: readonly object[], kubeconfig?: string): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }), ...(kubeconfig ? { kubeconfig } : {}) });
}

export async function installCrd(kubeconfig?: string): Promise<void> {
  const options = kubeconfig ? { kubeconfig } : {};
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE], options);
  await kubectl(['wait', '--for=condition=Established', 'crd/webhooksources.triagewarden.io', '--timeout=60s'], options);
}

export function secret(namespace: string, name: string, data: Record<string, string>, labelled = true): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name, ...(labelled ? { labels: SECRET_LABEL } : {}) },
    stringData: data,
  };
}

export function webhookSource(namespace: string, name: string, spec: Record<string, unknown>): object {
  return { apiVersion: 'triagewarden.io/v1alpha1', kind: 'WebhookSource', metadata: { namespace, name }, spec };
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface WebhookSourceJson {
  metadata: { name: string; namespace: string; generation: number; creationTimestamp: string };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; webhookPath?: string; sourceName?: string; conditions?: Condition[] };
}

export async function getWebhookSource(namespace: string, name: string, kubeconfig?: string): Promise<WebhookSourceJson> {
  return JSON.parse(await kubectl(['get', 'webhooksources.triagewarden.io', name, '-n', namespace, '-o', 'json'], kubeconfig ? { kubeconfig } : {}));
}

export function condition(object: WebhookSourceJson, type: string): Condition | undefined {
  return object.status?.conditions?.find((item) => item.type === type);
}

/** The env that runs the service in Kubernetes mode against one namespace, with short lease timings. */
export function kubernetesEnv(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  const kubeconfig = kubeconfigFile();
  return {
    TW_KUBERNETES: 'true',
    KUBECONFIG: kubeconfig,
    TW_WATCH_NAMESPACES: namespace,
    TW_NAMESPACE: namespace,
    TW_LEASE_DURATION_SECONDS: '4',
    TW_LEASE_RENEW_DEADLINE_SECONDS: '3',
    TW_LEASE_RETRY_PERIOD_SECONDS: '1',
    ...extra,
  };
}

export const NO_FILE_SOURCES = 'sources: {}\n';

/** The status a signed generic event gets at /api/webhooks/<source>, and the error code if any. */
export async function sendSigned(
  baseUrl: string,
  source: string,
  secretValue: string,
  body = JSON.stringify({ event_type: 'test', data: { n: Math.random() } }),
): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${baseUrl}/api/webhooks/${source}`, { method: 'POST', body, headers: signedHeaders(secretValue, body) });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as { error?: { code?: string } }) : {};
  return { status: response.status, code: parsed.error?.code };
}
