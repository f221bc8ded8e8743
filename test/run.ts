/**
 * What `npm test` runs: the test files, each starting the real servers it declares with
 * `await needs(…)` through this process (test/infra/on-demand.ts), so a server starts once for the
 * whole run, only if a selected file needs it; everything started is always stopped at the end.
 * `npm test -- <file…>` runs a subset. Every process of the run writes V8 coverage (test files, and
 * through test/helpers/child-env.ts the services and tw-cli they start), summarized over src/ at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { down, up } from './infra/infra.js';
import { ON_DEMAND_SOCKET, serveOnDemand } from './infra/on-demand.js';

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

/**
 * c8's summary of the run's coverage of src/: the services run the built dist/, mapped back to
 * src/ through its source maps, and files nothing loaded count as uncovered. No threshold yet.
 */
async function printCoverage(coverageDir: string): Promise<void> {
  const c8 = fileURLToPath(import.meta.resolve('c8/bin/c8.js'));
  const args = [
    'report',
    '--temp-directory',
    coverageDir,
    '--reporter',
    'text-summary',
    '--all',
    '--src',
    'src',
    '--include',
    'src/**',
    '--include',
    'dist/**',
  ];
  const report = spawn(process.execPath, [c8, ...args], { stdio: 'inherit' });
  await new Promise((resolve) => report.once('exit', resolve));
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const files = requested.length > 0 ? requested : allTestFiles();

  // Its own state dir: a run never adopts or stops servers of `npm run infra -- up`.
  const stateDir = mkdtempSync(join(tmpdir(), 'tw-test-run-'));
  const socket = join(stateDir, 'servers.sock');
  const onDemand = await serveOnDemand(socket, (wanted) => up(stateDir, wanted));
  // Once only: a signal and the finally below may both ask.
  let stopping: Promise<void> | undefined;
  const stopServers = () =>
    (stopping ??= (async () => {
      onDemand.close();
      onDemand.closeAllConnections();
      await down(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    })());
  // The servers run detached, so an interrupted run must stop them itself.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      testRunner?.kill(signal);
      void stopServers().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  const coverageDir = join(stateDir, 'coverage');
  try {
    const code = await runTests(files, { [ON_DEMAND_SOCKET]: socket, NODE_V8_COVERAGE: coverageDir });
    await printCoverage(coverageDir);
    return code;
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
