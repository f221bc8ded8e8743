/**
 * The bench's targets as processes: started with their `listening` line awaited, and read from
 * /proc while they run (CPU per thread, peak and current RSS, a process group's CPU for servers
 * with worker processes such as PostgreSQL).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TargetProcess {
  child: ChildProcess;
  /** The port it logged with its ready line (0 for a target that serves none). */
  port: number;
  /** Resolves with the first JSON line (so far or later) whose `msg` is `message`. */
  logged(message: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Every target started and not stopped yet, so an interrupted run can stop them. */
export const runningTargets = new Set<TargetProcess>();

/** Generous: 10,000 sources or a database's first connection take a while on a loaded 2-core machine. */
const START_TIMEOUT_MS = 120_000;
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/**
 * Starts `node <args>` with only `env` (and PATH) and resolves once it logged its ready line
 * (`listening`, with the port, for a server).
 */
export async function startNodeTarget(name: string, args: readonly string[], env: Record<string, string>, ready = 'listening'): Promise<TargetProcess> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (text: string) => (output = (output + text).slice(-4000));
  child.stderr.on('data', (chunk) => keep(String(chunk)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const entries: Record<string, unknown>[] = [];
  const waiters: { message: string; done: (entry: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      keep(`${line}\n`);
      return;
    }
    if (entry.level === undefined || Number(entry.level) >= 40) keep(`${line}\n`);
    entries.push(entry);
    if (entries.length > 1000) entries.shift();
    for (const waiter of waiters.filter((w) => w.message === entry.msg)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.done(entry);
    }
  });
  const logged = (message: string) =>
    new Promise<Record<string, unknown>>((done, fail) => {
      const seen = entries.find((entry) => entry.msg === message);
      if (seen) return done(seen);
      waiters.push({ message, done });
      void exited.then(() => fail(new Error(`${name} exited with ${child.exitCode ?? child.signalCode} before logging '${message}':\n${output}`)));
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    runningTargets.delete(target);
  };
  const target: TargetProcess = { child, port: 0, logged, stop };
  runningTargets.add(target);
  const startUp = new AbortController();
  const tooLate = sleep(START_TIMEOUT_MS, undefined, { signal: startUp.signal }).then(() => {
    throw new Error(`${name} did not log '${ready}' within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
  });
  const readyLine = await Promise.race([logged(ready), tooLate])
    .catch(async (error: unknown) => {
      await stop();
      throw error;
    })
    .finally(() => startUp.abort());
  tooLate.catch(() => undefined);
  target.port = Number(readyLine.port ?? 0);
  return target;
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

/** Current resident set size (VmRSS), in MB. */
export function rssMb(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

function statusKb(pid: number, field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** CPU seconds (user + system) from a /proc/…/stat line; the command name before them may contain spaces. */
function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds used so far by each thread of a process; the event loop is the thread whose id is the pid. */
export function threadCpuSeconds(pid: number): { eventLoop: number; otherThreads: number } {
  const totals = { eventLoop: 0, otherThreads: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const seconds = statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    if (Number(tid) === pid) totals.eventLoop += seconds;
    else totals.otherThreads += seconds;
  }
  return totals;
}

/**
 * CPU seconds of every live process in the process group `pgid` (a detached server and the workers
 * it forked, e.g. PostgreSQL's backends). Workers that exited in between are not counted.
 */
export function groupCpuSeconds(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    if (Number(fields[2]) === pgid) total += statCpuSeconds(stat);
  }
  return total;
}

/** The 1-minute load average, which the report carries beside every figure (the machine is shared). */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}
