import { rmSync } from 'node:fs';
import { helmBinary } from './helm.js';
import { kubeAssets, startKube } from './kube.js';
import { ferretdbBinaries, startFerretdb } from './mongo.js';
import { prometheusOperatorCrds } from './monitoring-crds.js';
import { isOurs, stopServer } from './process.js';
import { readState, writeState, type Component, type Started } from './state.js';

type Start = () => Promise<Started>;

/** Each component: get its binaries (env override, cache, or build), then a function that starts it. */
const prepare: Record<Component, () => Promise<Start>> = {
  kube: async () => {
    const assets = await kubeAssets();
    return () => startKube(assets);
  },
  mongo: async () => {
    const uri = process.env.MONGODB_URI;
    if (uri) return async () => ({ component: 'mongo', servers: [], env: { MONGODB_URI: uri } });
    const binaries = await ferretdbBinaries();
    return () => startFerretdb(binaries);
  },
  helm: async () => {
    const binary = await helmBinary();
    return async () => ({ component: 'helm', servers: [], env: { HELM_BIN: binary } });
  },
  'monitoring-crds': async () => {
    const folder = await prometheusOperatorCrds();
    return async () => ({ component: 'monitoring-crds', servers: [], env: { PROMETHEUS_OPERATOR_CRDS: folder } });
  },
};

/** Builds whatever is missing without starting anything (CI runs this first so build logs stand apart). */
export async function build(wanted: readonly Component[]): Promise<void> {
  for (const component of wanted) await prepare[component]();
}

/**
 * Starts the wanted components (reusing ones this state dir already runs) and returns the env that
 * points at them. Everything is built before anything starts, so no server idles through a build.
 */
export async function up(stateDir: string, wanted: readonly Component[]): Promise<Record<string, string>> {
  const state = await dropDead(readState(stateDir));
  const missing = wanted.filter((component) => !state.some((s) => s.component === component));
  const starts: Start[] = [];
  for (const component of missing) starts.push(await prepare[component]());
  // Recorded as each comes up, so a `down` from an interrupted run finds what already runs.
  const record = (started: Started) => {
    state.push(started);
    writeState(stateDir, state);
  };
  const results = await Promise.allSettled(starts.map((start) => start().then(record)));
  writeState(stateDir, state);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return Object.assign({}, ...state.filter((s) => wanted.includes(s.component)).map((s) => s.env)) as Record<string, string>;
}

/** Stops every process the state dir records (by PID) and removes their temp folders. */
export async function down(stateDir: string): Promise<void> {
  for (const started of readState(stateDir)) await release(started);
  writeState(stateDir, []);
}

export function status(stateDir: string): Array<Started & { running: boolean }> {
  return readState(stateDir).map((started) => ({ ...started, running: started.servers.every(isOurs) }));
}

/** A component whose process died (crash, reboot) is cleaned up so `up` starts it afresh. */
async function dropDead(state: Started[]): Promise<Started[]> {
  const alive: Started[] = [];
  for (const started of state) {
    if (started.servers.every(isOurs)) alive.push(started);
    else await release(started);
  }
  return alive;
}

async function release(started: Started): Promise<void> {
  for (const server of [...started.servers].reverse()) await stopServer(server);
  if (started.workDir) rmSync(started.workDir, { recursive: true, force: true });
}
