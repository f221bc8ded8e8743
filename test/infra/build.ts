import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logTail } from './process.js';

/** How to build one binary from a Go tools module under test/infra/go/<moduleDir>. */
export interface GoBinary {
  binary: string;
  moduleDir: string;
  /** The module test/infra/versions.ts pins, and the version its go.mod must require. */
  pinned: { module: string; version: string };
  /** The version every `replace` in that go.mod must point at (Kubernetes' staging modules). */
  replacedWith?: string;
  goPackage: string;
  ldflags?: readonly string[];
}

const goModulesRoot = join(dirname(fileURLToPath(import.meta.url)), 'go');

/** Binaries live outside the repo so a fresh clone, `git clean` or a CI checkout reuses them. */
export function cacheDir(...parts: string[]): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tw-webhooks', ...parts);
}

export function progress(message: string): void {
  process.stderr.write(`infra: ${message}\n`);
}

/**
 * One binary in its own cache folder named after it and its version, and after our own Go source
 * around it when the module has some (main.go): editing that rebuilds; built when missing.
 */
export async function cachedBinary(spec: GoBinary): Promise<string> {
  const folder = cacheDir(`${spec.binary}-${spec.pinned.version}${ownSourceSuffix(spec.moduleDir)}`);
  await ensureBinaries(folder, [spec]);
  return join(folder, spec.binary);
}

/** Builds each binary that `folder` lacks; present ones are trusted (the folder name carries the versions). */
export async function ensureBinaries(folder: string, binaries: readonly GoBinary[]): Promise<void> {
  const missing = binaries.filter((b) => !existsSync(join(folder, b.binary)));
  if (missing.length === 0) return;
  requireGo();
  mkdirSync(folder, { recursive: true });
  mkdirSync(cacheDir('logs'), { recursive: true });
  for (const binary of missing) await build(folder, binary);
}

function ownSourceSuffix(moduleDir: string): string {
  const dir = join(goModulesRoot, moduleDir);
  const sources = readdirSync(dir)
    .filter((name) => name.endsWith('.go'))
    .sort();
  if (sources.length === 0) return '';
  const hash = createHash('sha256');
  for (const name of sources) hash.update(name).update(readFileSync(join(dir, name)));
  return `-${hash.digest('hex').slice(0, 8)}`;
}

async function build(folder: string, spec: GoBinary): Promise<void> {
  const moduleDir = join(goModulesRoot, spec.moduleDir);
  assertPinned(moduleDir, spec);
  const target = join(folder, spec.binary);
  // Build beside the target and rename, so an interrupted build never leaves a broken binary behind.
  const partial = `${target}.partial-${process.pid}`;
  const logFile = cacheDir('logs', `${spec.binary}-${spec.pinned.version}.build.log`);
  const ldflags = ['-s', '-w', ...(spec.ldflags ?? [])].join(' ');
  const args = ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', partial, spec.goPackage];
  progress(`building ${spec.binary} ${spec.pinned.version} from ${spec.pinned.module} (only when missing; log: ${logFile})`);
  const started = Date.now();
  const code = await runLogged('go', args, moduleDir, logFile, spec.binary);
  if (code !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`go ${args.join(' ')} (in ${moduleDir}) failed with code ${code}:\n${logTail(logFile, 40)}`);
  }
  renameSync(partial, target);
  progress(`built ${spec.binary} in ${Math.round((Date.now() - started) / 1000)} s`);
}

function runLogged(command: string, args: string[], cwd: string, logFile: string, what: string): Promise<number> {
  const log = openSync(logFile, 'w');
  const started = Date.now();
  // A cold kube-apiserver build takes many minutes on two cores; say so, or CI looks hung.
  const heartbeat = setInterval(() => progress(`still building ${what} (${Math.round((Date.now() - started) / 60_000)} min)`), 60_000);
  const child = spawn(command, args, {
    cwd,
    stdio: ['ignore', log, log],
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
  });
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).finally(() => {
    clearInterval(heartbeat);
    closeSync(log);
  });
}

/** versions.ts is the single source of truth; a go.mod that drifted from it is a mistake to stop on. */
function assertPinned(moduleDir: string, { pinned, replacedWith }: GoBinary): void {
  const goMod = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  const required = new RegExp(`^\\s*(require\\s+)?${pinned.module.replaceAll('.', '\\.')} ${pinned.version}(\\s*//.*)?$`, 'm');
  const staleReplacements = [...goMod.matchAll(/=> (\S+) (v\S+)/g)].filter(([, , version]) => replacedWith && version !== replacedWith);
  if (!required.test(goMod) || staleReplacements.length > 0) {
    throw new Error(
      `${moduleDir}/go.mod does not match test/infra/versions.ts (${pinned.module} ${pinned.version}` +
        `${replacedWith ? `, replacements at ${replacedWith}` : ''}): update it, then run \`go mod tidy\` there`,
    );
  }
}

function requireGo(): void {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) {
    throw new Error(
      'Go (≥ 1.26) is needed to build the test servers from Go modules. Install it, or point ' +
        'KUBEBUILDER_ASSETS, MONGODB_URI and HELM_BIN at binaries/servers you already have.',
    );
  }
}
