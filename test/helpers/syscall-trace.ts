/**
 * Runs the service under strace and reads, from its trace, when each acknowledgement was written
 * relative to the fsyncs of the store's files: the test of "a 2xx is sent only after its commit is
 * on disk" that no HTTP-level test can make (a store that stops waiting for the disk answers the
 * same way, only faster).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STRACE = '/usr/bin/strace';

/**
 * The wrapper for startService and the file it writes: every thread (-f), descriptors with their
 * paths and sockets' addresses (-yy), the first bytes of each buffer, only the calls read here
 * (filtered in the kernel, --seccomp-bpf, so the rest run at full speed). The trace is written
 * outside the service's config folder: the file provider watches that folder, and each trace line
 * would wake it and be traced in turn.
 */
export function straceWrapper(): { wrapper: string[]; traceFile: string } {
  try {
    execFileSync(STRACE, ['-V']);
  } catch {
    throw new Error(`${STRACE} is needed for this test (apt-get install strace; .ci/run installs it)`);
  }
  const traceFile = join(mkdtempSync(join(tmpdir(), 'tw-strace-')), 'trace');
  const calls = 'read,recvfrom,write,writev,sendto,fsync,fdatasync';
  return { wrapper: [STRACE, '-f', '--seccomp-bpf', '-yy', '-s', '64', '-e', `trace=${calls}`, '-o', traceFile, '--'], traceFile };
}

export interface Acknowledgement {
  /** The connection (`TCP:[server->client]`) it was answered on. */
  connection: string;
  status: number;
  /** Whether a store file's fsync completed between the request's last read and this answer's write. */
  afterFsync: boolean;
  /** The files fsynced in between. */
  fsynced: string[];
}

type Event = { kind: 'read'; connection: string } | { kind: 'answer'; connection: string; status: number } | { kind: 'fsync'; path: string };

const CALL = /^(?<tid>\d+)\s+(?<call>\w+)\((?<fd>\d+)<(?<target>TCP:\[[^\]]*\]|[^>]*)>(?<rest>.*)$/;
const RESUMED = /^(?<tid>\d+)\s+<\.\.\. (?<call>\w+) resumed>(?<rest>.*)$/;
const RESULT = /\)\s+=\s+(?<result>-?\d+)/;

/** Every 2xx written to a client in the trace, in order, with whether an fsync of `storeFile` (and its -wal, -journal) preceded it. */
export function acknowledgements(traceFile: string, storeFile: string): Acknowledgement[] {
  const events: Event[] = [];
  // A call another thread's call interrupted: its fd is on the first line, its result on the "resumed" one.
  const pending = new Map<string, { call: string; target: string }>();
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const call = CALL.exec(line)?.groups;
    const resumed = call ? undefined : RESUMED.exec(line)?.groups;
    if (call?.rest!.includes('<unfinished ...>')) {
      pending.set(call.tid!, { call: call.call!, target: call.target! });
      // A write counts from its start: the bytes may be on their way before it returns.
      if (isAnswer(call.call!, call.target!, call.rest!)) events.push(answer(call.target!, call.rest!));
      continue;
    }
    const started = call ?? (resumed && { ...resumed, ...pending.get(resumed.tid!) });
    if (resumed) pending.delete(resumed.tid!);
    if (!started?.target) continue;
    const { call: name, target, rest } = started as { call: string; target: string; rest: string };
    const result = Number(RESULT.exec(rest)?.groups?.result ?? -1);
    if (name === 'fsync' || name === 'fdatasync') {
      if (result === 0) events.push({ kind: 'fsync', path: target });
    } else if ((name === 'read' || name === 'recvfrom') && target.startsWith('TCP:') && result > 0) {
      events.push({ kind: 'read', connection: target });
    } else if (!resumed && isAnswer(name, target, rest)) {
      events.push(answer(target, rest));
    }
  }

  const storeFiles = new Set([storeFile, `${storeFile}-wal`, `${storeFile}-journal`]);
  const lastRead = new Map<string, number>();
  const acknowledged: Acknowledgement[] = [];
  events.forEach((event, index) => {
    if (event.kind === 'read') lastRead.set(event.connection, index);
    if (event.kind !== 'answer' || event.status < 200 || event.status > 299) return;
    const between = events.slice((lastRead.get(event.connection) ?? index) + 1, index);
    const fsynced = between.flatMap((other) => (other.kind === 'fsync' && storeFiles.has(other.path) ? [other.path] : []));
    acknowledged.push({ connection: event.connection, status: event.status, afterFsync: fsynced.length > 0, fsynced });
  });
  return acknowledged;
}

function isAnswer(call: string, target: string, rest: string): boolean {
  return (call === 'write' || call === 'writev' || call === 'sendto') && target.startsWith('TCP:') && /"HTTP\/1\.1 \d{3} /.test(rest);
}

function answer(connection: string, rest: string): Event {
  return { kind: 'answer', connection, status: Number(/"HTTP\/1\.1 (\d{3}) /.exec(rest)![1]) };
}
