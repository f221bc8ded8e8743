/**
 * Starts the real service on a free loopback port with its own data dir and config, and drives it
 * over real HTTP: as its own process (the built `dist/main.js` with `npm start`'s node flags), or, where
 * a test needs no process of its own (no signals, exits or the process's RSS), in-process through
 * `start()`, the entry point's one call, which spares the run a node start-up per service.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serviceNodeFlags } from './service-command.js';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.js';
import { TEST_TOKEN } from './api-client.js';
import { childEnv } from './child-env.js';
import type * as StartModule from '../../src/start.js';
import type * as LoggerModule from '../../src/log/logger.js';

/*
 * In-process, the service is the same built dist/ the process runs (typed by its sources): loading
 * src/ through tsx instead costs each test file about what the node start-up it spares.
 */
const DIST = resolve(import.meta.dirname, '../../dist');
const MAIN = join(DIST, 'main.js');

export interface ServiceOptions {
  /** webhook_config.yaml text. */
  config: string;
  env?: Record<string, string>;
  /** Reuse a data dir (restart scenarios). */
  dataDir?: string;
  /** A command the service runs under, e.g. `['strace', …, '--']`; stop() and kill9() signal the service itself. */
  wrapper?: readonly string[];
}

/** What a service started either way offers. */
export interface ServiceUnderTest {
  url: string;
  dataDir: string;
  configPath: string;
  logs: Record<string, unknown>[];
  /** Waits (with a deadline) for a log line matching `match`, and returns it. */
  logged(match: (entry: Record<string, unknown>) => boolean, message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Stops it as SIGTERM does, and waits until it has. */
  stop(): Promise<void>;
}

export interface RunningService extends ServiceUnderTest {
  process: ChildProcess;
  /** Resolves when the process has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no shutdown hooks run. */
  kill9(): Promise<void>;
}

/** The service's settings under test: its folders, the test token, and the given env on top. */
function serviceSetup(options: ServiceOptions): { dataDir: string; configPath: string; env: Record<string, string> } {
  const workDir = mkdtempSync(join(tmpdir(), 'tw-svc-'));
  const dataDir = options.dataDir ?? join(workDir, 'data');
  const configPath = join(workDir, 'webhook_config.yaml');
  writeFileSync(configPath, options.config);
  const env = {
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
  };
  return { dataDir, configPath, env };
}

/** In this process: its log lines are read from the logger as they are written. */
export async function startInProcess(options: ServiceOptions): Promise<ServiceUnderTest> {
  const { dataDir, configPath, env } = serviceSetup(options);
  // Loaded here, so the files that only spawn the service do not load it.
  const { start } = (await import(pathToFileURL(join(DIST, 'start.js')).href)) as typeof StartModule;
  const { createLogger } = (await import(pathToFileURL(join(DIST, 'log/logger.js')).href)) as typeof LoggerModule;
  const logs: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const service = await start({ env, logger: createLogger(env.LOG_LEVEL!, destination) });
  let stopped: Promise<void> | undefined;
  return {
    url: service.url,
    dataDir,
    configPath,
    logs,
    logged: (match, message, timeoutMs) => waitFor(() => logs.find(match), { message: `the service to log ${message}`, timeoutMs }),
    stop: () => (stopped ??= service.stop()),
  };
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { dataDir, configPath, env } = serviceSetup(options);
  const [command, ...args] = [...(options.wrapper ?? []), process.execPath, ...serviceNodeFlags(), MAIN];
  const child = spawn(command, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
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
    if (child.exitCode === null && child.signalCode === null) process.kill(servicePid(child, options.wrapper !== undefined), signal);
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

/**
 * The service's own process: the wrapper's child when it runs under one. Signals go there because
 * a wrapper need not pass them on (strace started with -o blocks fatal signals, its -I 3).
 */
function servicePid(child: ChildProcess, wrapped: boolean): number {
  if (!wrapped) return child.pid!;
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ');
  return Number(children[0]);
}

export interface Exit {
  code: number | null;
  lines: Record<string, any>[];
  stdout: string;
  stderr: string;
}

/** Runs the service until it exits by itself (a failed start), with only the given settings. */
export function runUntilExit(env: Record<string, string>, config = 'sources:\n  edr:\n    secret: "edr-secret"\n'): Promise<Exit> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-start-'));
  const configPath = join(dir, 'webhook_config.yaml');
  writeFileSync(configPath, config);
  const child = spawn(process.execPath, [...serviceNodeFlags(), MAIN], {
    env: childEnv({
      HOST: '127.0.0.1',
      PORT: '0',
      TW_CONFIG: configPath,
      TW_DATA_DIR: join(dir, 'data'),
      TW_API_TOKEN: TEST_TOKEN,
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(deadline);
      const lines = stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, any>;
          } catch {
            return { notJson: line };
          }
        });
      done({ code, lines, stdout, stderr });
    }),
  );
}

/** One JSON line at fatal level, naming the problem; exit code 1; every line JSON; no stack anywhere. Returns the line. */
export function assertOneFailureLine(exit: Exit, message: RegExp): Record<string, any> {
  assert.equal(exit.code, 1, `exit code; stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`);
  assert.equal(exit.stderr, '', 'nothing on stderr');
  assert.deepEqual(
    exit.lines.filter((line) => 'notJson' in line),
    [],
    'every stdout line is JSON',
  );
  const failures = exit.lines.filter((line) => line.level >= 50);
  assert.equal(failures.length, 1, `exactly one error line:\n${exit.stdout}`);
  const [failure] = failures;
  assert.equal(failure!.level, 60);
  assert.match(failure!.msg, /^cannot start: /);
  assert.match(failure!.msg, message);
  assert.doesNotMatch(exit.stdout, /"stack"|\n\s+at /, 'no stack trace');
  return failure!;
}
