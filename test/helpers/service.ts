/**
 * Starts the real service (the built `dist/main.js`, as `npm start` runs it) on a free loopback
 * port with its own data dir and config, and drives it over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.js';
import { TEST_TOKEN } from './api-client.js';
import { childEnv } from './child-env.js';

const MAIN = resolve(import.meta.dirname, '../../dist/main.js');

export interface ServiceOptions {
  /** webhook_config.yaml text. */
  config: string;
  env?: Record<string, string>;
  /** Reuse a data dir (restart scenarios). */
  dataDir?: string;
}

export interface RunningService {
  url: string;
  dataDir: string;
  configPath: string;
  process: ChildProcess;
  logs: Record<string, unknown>[];
  /** Resolves when the process has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits (with a deadline) for a log line matching `match`, and returns it. */
  logged(match: (entry: Record<string, unknown>) => boolean, message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown hooks run. */
  kill9(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const workDir = mkdtempSync(join(tmpdir(), 'tw-svc-'));
  const dataDir = options.dataDir ?? join(workDir, 'data');
  const configPath = join(workDir, 'webhook_config.yaml');
  writeFileSync(configPath, options.config);
  const child = spawn(process.execPath, [MAIN], {
    env: childEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      TW_CONFIG: configPath,
      TW_DATA_DIR: dataDir,
      TW_API_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'info',
      // Inline only, unless a test sets a budget: on a loaded 2-core machine a sync delivery can
      // exceed the default 2 s budget and be answered 202, and tests of 201 answers would flake.
      // The budget itself is tested where a test sets TW_INLINE_BUDGET_MS.
      TW_INLINE_BUDGET_MS: '0',
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));

  const port = await new Promise<number>((done, fail) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening' && typeof entry.port === 'number') done(entry.port);
    });
    void exited.then(({ code }) => fail(new Error(`service exited with ${code} before listening:\n${stderr}\n${JSON.stringify(logs)}`)));
    // Generous: a loaded 2-core CI machine starts node and opens the store slowly.
    setTimeout(() => fail(new Error(`service did not listen within 30 s:\n${stderr}`)), 30_000).unref();
  });

  const waitExit = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    configPath,
    process: child,
    logs,
    exited,
    logged: (match, message, timeoutMs) => waitFor(() => logs.find(match), { message: `the service to log ${message}`, timeoutMs }),
    stop: () => waitExit('SIGTERM'),
    kill9: () => waitExit('SIGKILL'),
  };
}
