/**
 * What `npm test` runs: start the real servers once for the whole run (building what is missing),
 * run every test file with their env, and always stop what was started. `npm test -- <file…>` runs a
 * subset; a subset of unit tests alone starts no server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { down, up } from './infra/infra.js';
import { components } from './infra/state.js';

const suites = ['test/unit', 'test/integration', 'test/e2e'];

function allTestFiles(): string[] {
  return suites.flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => join(dir, file))
      .sort());
}

let testRunner: ChildProcess | undefined;

function runTests(files: readonly string[], env: Record<string, string>): Promise<number> {
  // Node 20's --test expands no globs, hence the explicit file list.
  testRunner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const runner = testRunner;
  return new Promise((resolve) => runner.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const files = requested.length > 0 ? requested : allTestFiles();
  if (files.every((file) => file.includes('test/unit/'))) return runTests(files, {});

  // Its own state dir: a run never adopts or stops servers of `npm run infra -- up`.
  const stateDir = mkdtempSync(join(tmpdir(), 'tw-test-run-'));
  // Once only: a signal and the finally below may both ask.
  let stopping: Promise<void> | undefined;
  const stopServers = () => (stopping ??= down(stateDir).then(() => rmSync(stateDir, { recursive: true, force: true })));
  // The servers run detached, so an interrupted run must stop them itself.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      testRunner?.kill(signal);
      void stopServers().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  try {
    return await runTests(files, await up(stateDir, components));
  } finally {
    await stopServers();
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    process.stderr.write(`test/run: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
