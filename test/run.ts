/**
 * What `npm test` runs: start the real servers the selected test files use, once for the whole run
 * (building what is missing), run the files with their env, and always stop what was started.
 * `npm test -- <file…>` runs a subset.
 * Only the servers the selected files declare are started (see declared-servers.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { down, up } from './infra/infra.js';
import { serversOf } from './infra/declared-servers.js';
import { components, type Component } from './infra/state.js';

const suites = ['test/static', 'test/unit', 'test/integration', 'test/e2e'];
/**
 * So a hang fails instead of stalling CI. Node applies `--test-timeout` to each test and also to
 * each file's run as a whole, hence a budget for the longest file on a slow 2-core machine
 * (queue.test.ts takes about two minutes there), not for the longest test.
 */
const TEST_TIMEOUT_MS = 600_000;

function allTestFiles(): string[] {
  return suites.flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => join(dir, file))
      .sort(),
  );
}

function serversFor(files: readonly string[]): Component[] {
  const wanted = new Set(files.flatMap((file) => serversOf(file, readFileSync(file, 'utf8'))));
  return components.filter((component) => wanted.has(component));
}

let testRunner: ChildProcess | undefined;

function runTests(files: readonly string[], env: Record<string, string>): Promise<number> {
  // An explicit list rather than a glob: the suites run in their order, the quick static checks first.
  testRunner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${TEST_TIMEOUT_MS}`, ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const runner = testRunner;
  return new Promise((resolve) => runner.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const files = requested.length > 0 ? requested : allTestFiles();
  const wanted = serversFor(files);
  if (wanted.length === 0) return runTests(files, {});

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
    return await runTests(files, await up(stateDir, wanted));
  } finally {
    await stopServers();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`test/run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
