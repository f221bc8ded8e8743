import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerProcess } from './process.js';

export const components = ['kube', 'mongo', 'helm', 'monitoring-crds'] as const;
export type Component = (typeof components)[number];

/** What one `up` produced: the processes to stop, the temp folder to remove, the env it exports. */
export interface Started {
  component: Component;
  servers: ServerProcess[];
  workDir?: string;
  env: Record<string, string>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `.infra/` in the repo (git-ignored); TW_INFRA_STATE_DIR gives a run its own, as test/run.ts does. */
export function defaultStateDir(): string {
  return process.env.TW_INFRA_STATE_DIR || join(repoRoot, '.infra');
}

export function readState(stateDir: string): Started[] {
  const file = join(stateDir, 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Started[]) : [];
}

export function writeState(stateDir: string, started: readonly Started[]): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'state.json'), `${JSON.stringify(started, null, 2)}\n`);
}
