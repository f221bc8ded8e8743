import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server process started by the infra, recorded in the state file so `down` can stop it by PID. */
export interface ServerProcess {
  name: string;
  pid: number;
  binary: string;
  logFile: string;
}

/** The OS user a server runs as, when not the current one (PostgreSQL refuses root). */
export interface RunAs {
  uid: number;
  gid: number;
}

/** A free loopback port (the envtest way: bind to 0, read, release; a race is possible but rare). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('could not read a free port');
  return address.port;
}

/** How servers started by this process ended (by PID), so a failed start can say it. */
const exits = new Map<number, string>();

/**
 * Starts a server in its own process group with output to a log file, not tied to this process:
 * `npm run infra -- up` exits while the servers keep running.
 */
export function startDetached(name: string, binary: string, args: readonly string[], logFile: string, user?: RunAs): ServerProcess {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log], ...user });
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    const pid = child.pid;
    child.once('exit', (code, signal) => exits.set(pid, signal ? `killed by ${signal}` : `exit code ${code}`));
    child.unref();
    return { name, pid, binary, logFile };
  } finally {
    closeSync(log);
  }
}

/**
 * Runs `attempt` and, if it fails, once more (with fresh ports, since each attempt picks its own):
 * a port taken between freePort() and the server's bind, or a server dying on a loaded machine,
 * should not fail a whole test run. Both failures are reported if the second attempt fails too.
 */
export async function retryOnce<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (first) {
    process.stderr.write(`infra: ${what} failed to start, retrying once on fresh ports:\n${describe(first)}\n`);
    try {
      return await attempt();
    } catch (second) {
      throw new Error(`${what} failed to start twice.\nFirst attempt: ${describe(first)}\nSecond attempt: ${describe(second)}`, { cause: second });
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True while the PID is alive and still runs our binary (a recycled PID is not ours to kill). */
export function isOurs(server: ServerProcess): boolean {
  if (!existsSync('/proc/self')) return isAlive(server.pid); // no procfs (macOS): liveness is all we can see
  try {
    const argv0 = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0')[0];
    const state = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return argv0 === server.binary && state !== 'Z';
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the server's process group, SIGKILL if it is still there after the grace period. */
export async function stopServer(server: ServerProcess, graceMs = 10_000): Promise<void> {
  if (!isOurs(server)) return;
  signalGroup(server.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isOurs(server) && Date.now() < deadline) await sleep(100);
  if (isOurs(server)) signalGroup(server.pid, 'SIGKILL');
  while (isOurs(server)) await sleep(50);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Polls `ready` until it answers true; fails early with the log's tail when the server died. */
export async function waitForServer(server: ServerProcess, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurs(server)) {
      // Give the exit event a moment to arrive (slow on a loaded machine), so the message can say how the process ended.
      for (let waited = 0; !exits.has(server.pid) && waited < 2_000; waited += 50) await sleep(50);
      throw new Error(
        `${server.name} exited during start-up (${exits.get(server.pid) ?? 'exit status unknown'}); last lines of ${server.logFile}:\n${logTail(server.logFile)}`,
      );
    }
    if (await ready().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${server.name} was not ready after ${timeoutMs / 1000} s; last lines of ${server.logFile}:\n${logTail(server.logFile)}`);
}

export function logTail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text === '' ? '(the log is empty)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
