/** Runs the real `tw-cli` binary (the built dist/cli/main.js), or any program, as a user's shell would. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { childEnv } from './child-env.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end with `stdin` as its input. */
export function runProgram(program: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<ProgramRun> {
  const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  child.stdin.end(stdin);
  return new Promise((done) => child.once('close', (code) => done({ code, stdout, stderr })));
}

/** tw-cli with only PATH and the given variables in its environment. */
export function twCli(args: readonly string[], env: Record<string, string>, stdin = ''): Promise<ProgramRun> {
  return runProgram(process.execPath, [CLI, ...args], childEnv(env), stdin);
}
