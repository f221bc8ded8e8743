/**
 * The real servers tests talk to. A test file declares the ones it needs at its top with
 * `await needs('kube', 'mongo')`: under `npm test` (test/run.ts) that starts them, once per run,
 * and puts their env into this process; isolation per test comes from fresh namespaces and
 * databases. A missing server is a failure with the way to get it, never a skip.
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ON_DEMAND_SOCKET, requestServers } from '../infra/on-demand.js';
import type { Component } from '../infra/state.js';

/** The variables each server's start exports (test/infra/infra.ts). */
const envOf: Record<Component, readonly string[]> = {
  kube: ['KUBECONFIG', 'KUBECTL'],
  mongo: ['MONGODB_URI'],
  helm: ['HELM_BIN'],
  'monitoring-crds': ['PROMETHEUS_OPERATOR_CRDS'],
};

/**
 * Starts (or finds running) the servers this test file talks to and sets their env here. Outside
 * `npm test`, servers started by hand count: `eval "$(npm run -s infra -- up kube)"` and then
 * `node --import tsx --test <file>`.
 */
export async function needs(...wanted: Component[]): Promise<void> {
  const socket = process.env[ON_DEMAND_SOCKET];
  if (socket) {
    Object.assign(process.env, await requestServers(socket, wanted));
    return;
  }
  const missing = wanted.filter((component) => !envOf[component].every((name) => process.env[name]));
  if (missing.length > 0) {
    throw new Error(
      `this file needs ${missing.join(', ')}: run it with \`npm test -- <file>\` (it starts them), or start them yourself: ` +
        `eval "$(npm run -s infra -- up ${missing.join(' ')})"`,
    );
  }
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value) return value;
  const component = (Object.keys(envOf) as Component[]).find((candidate) => envOf[candidate].includes(name));
  throw new Error(`${name} is not set: declare the server at the top of the test file with \`await needs('${component}')\``);
}

/** The kubeconfig file for the API server `npm test` started, authenticated as a cluster admin. */
export function kubeconfigFile(): string {
  return requireEnv('KUBECONFIG');
}

/** A client config for that API server. */
export function kubeFromEnv(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigFile());
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
