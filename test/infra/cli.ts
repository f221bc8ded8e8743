/**
 * `npm run infra -- <command>`: real servers for tests and local use, built from Go modules.
 *
 *   up [kube|mongo|helm|monitoring-crds…]     start (all by default) and print `export NAME=value` lines on stdout:
 *                             eval "$(npm run -s infra -- up kube)"
 *   down                      stop everything `up` started (by PID) and remove its temp folders
 *   status                    what runs, with its env
 *   build [kube|mongo|helm|monitoring-crds…]  only build what is missing into ~/.cache/tw-webhooks
 *
 * Overrides: KUBEBUILDER_ASSETS (folder with kube-apiserver, etcd, kubectl), MONGODB_URI (use that
 * server, start no FerretDB), HELM_BIN. So after `down`, unset what `up` exported, or a stale
 * MONGODB_URI will be taken as "use that server". State lives in .infra/ (or TW_INFRA_STATE_DIR).
 */
import { build, down, status, up } from './infra.js';
import { components, defaultStateDir, type Component } from './state.js';

const [command, ...rest] = process.argv.slice(2);
const stateDir = defaultStateDir();

function wantedComponents(): Component[] {
  const unknown = rest.filter((name) => !(components as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown component(s) ${unknown.join(', ')}; choose from ${components.join(', ')}`);
  return rest.length > 0 ? (rest as Component[]) : [...components];
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

function printExports(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) process.stdout.write(`export ${name}=${shellQuote(value)}\n`);
}

async function main(): Promise<void> {
  switch (command) {
    case 'up':
      printExports(await up(stateDir, wantedComponents()));
      return;
    case 'down':
      await down(stateDir);
      return;
    case 'status':
      for (const started of status(stateDir)) {
        const pids = started.servers.map((s) => `${s.name}=${s.pid}`).join(' ') || 'no process';
        process.stdout.write(`${started.component}: ${started.running ? 'running' : 'DEAD'} (${pids})\n`);
        printExports(started.env);
      }
      return;
    case 'build':
      await build(wantedComponents());
      return;
    default:
      throw new Error('usage: npm run infra -- up [kube|mongo|helm|monitoring-crds…] | down | status | build [kube|mongo|helm|monitoring-crds…]');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`infra: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
