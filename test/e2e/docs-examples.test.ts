/**
 * Docs as tests: every shell example of README.md and docs/*.md runs as written, page by page, in
 * one bash session per page, against a service started the way the README starts it (on a free
 * port, in a fresh copy of the checkout with a fresh data dir), and its output is checked against
 * what the page shows. The conventions a page follows are in test/helpers/doc-examples.ts.
 *
 * What the session changes, and why: `localhost:8080` is the free port (in the commands, and as
 * tw-cli's default API URL); `npm ci` is skipped (the
 * checkout's dependencies are installed); `npm start` runs in the background and the next command
 * waits until the service is ready (a reader starts it in another terminal); `tw-cli`, `kubectl`
 * and `helm` are on PATH, the last two talking to the test's kube-apiserver.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  SHELL_LANGS,
  OUTPUT_LANGS,
  fencesOf,
  outputBlockExpectations,
  outputProblems,
  parseLooseJson,
  stepsOf,
  type Fence,
  type Step,
} from '../helpers/doc-examples.js';
import { needs } from '../helpers/servers.js';

await needs('kube', 'helm');

const REPO = resolve(import.meta.dirname, '../..');
/** The command the README starts the service with for reading back what is sent: every page that does not start its own runs against it. */
const README_START = 'TW_API_TOKEN=tw_local_dev_token_1234 npm start';
const STEP_TIMEOUT_MS = 180_000;

const ALL_PAGES = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`),
];
/** `DOC_PAGES=docs/api.md,docs/cli.md` runs only those while a page is being written; the run says so. */
const PAGES = process.env.DOC_PAGES ? ALL_PAGES.filter((page) => process.env.DOC_PAGES!.split(',').includes(page)) : ALL_PAGES;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * A fresh checkout as a reader has it after cloning: the repository's folders linked (sources,
 * dist, node_modules), its top-level files copied (so an example that edits webhook_config.yaml
 * edits the copy), and no data dir.
 */
function freshCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-docs-'));
  for (const entry of readdirSync(REPO)) {
    if (['.git', 'data', '.infra'].includes(entry)) continue;
    const from = join(REPO, entry);
    if (statSync(from).isDirectory()) symlinkSync(from, join(dir, entry));
    else copyFileSync(from, join(dir, entry));
  }
  return dir;
}

/** Commands on PATH: tw-cli as `npm link` installs it; kubectl and helm for the test's servers. */
function binDir(root: string): string {
  const bin = join(root, '.doc-test-bin');
  mkdirSync(bin);
  const tools: Record<string, string | undefined> = {
    'tw-cli': `exec "${process.execPath}" "${join(REPO, 'dist/cli/main.js')}" "$@"`,
    kubectl: process.env.KUBECTL && `exec "${process.env.KUBECTL}" "$@"`,
    helm: process.env.HELM_BIN && `exec "${process.env.HELM_BIN}" "$@"`,
  };
  for (const [name, body] of Object.entries(tools)) {
    if (!body) continue;
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

const SESSION_SETUP = `
shopt -s expand_aliases
set -o pipefail
npm() {
  if [ "$1" = ci ]; then echo "doc-test: npm ci skipped (the checkout's dependencies are installed)"; return 0; fi
  command npm "$@"
}
export -f npm
doctest_stop() {
  [ -f "$DOCTEST_DIR/service.pid" ] || return 0
  local pid; pid=$(cat "$DOCTEST_DIR/service.pid"); rm -f "$DOCTEST_DIR/service.pid"
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null; return 0
}
doctest_start() {
  doctest_stop
  cat > "$DOCTEST_DIR/service.sh"
  doctest_services=$((doctest_services + 1))
  local log="$DOCTEST_DIR/service-$doctest_services.log"
  setsid bash "$DOCTEST_DIR/service.sh" > "$log" 2>&1 < /dev/null &
  echo $! > "$DOCTEST_DIR/service.pid"
  for _ in $(seq 1 1200); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1 && return 0
    kill -0 "$(cat "$DOCTEST_DIR/service.pid")" 2>/dev/null || { echo "doc-test: the service exited:" >&2; tail -20 "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "doc-test: the service was not ready within 120 s:" >&2; tail -20 "$log" >&2; return 1
}
`;

/** `… npm start` (with its variables and an `npm ci &&` before it) runs in the background until ready. */
const START_LINE = /^([^#\n]*\bnpm start)\s*(#.*)?$/gm;

function runnable(script: string, port: number): string {
  return script
    .replaceAll('localhost:8080', `localhost:${port}`)
    .replace(START_LINE, (_, command: string) => `doctest_start <<'__DOCTEST_SERVICE__'\n${command}\n__DOCTEST_SERVICE__`);
}

/** The test's environment without what would point the service or tw-cli elsewhere than a fresh start (the shared MongoDB, another API). */
function readerEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('TW_') || name === 'MONGODB_URI' || name === 'LOG_LEVEL') delete env[name];
  return env;
}

interface StepResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** One bash process per page: variables, aliases and the service carry over from step to step. */
class Session {
  private readonly shell: ChildProcessWithoutNullStreams;
  private pending = '';
  private waiting: ((line: string) => void) | undefined;
  private count = 0;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.shell = spawn('bash', ['--noprofile', '--norc'], {
      cwd: dir,
      env: {
        ...readerEnvironment(),
        PATH: `${binDir(dir)}:${process.env.PATH ?? ''}`,
        PORT: String(port),
        HOST: '127.0.0.1',
        // tw-cli's default, http://localhost:8080, moved to the free port like every other mention of it.
        TW_API_URL: `http://localhost:${port}`,
        DOCTEST_DIR: join(dir, '.doc-test'),
      },
    });
    mkdirSync(join(dir, '.doc-test'));
    this.shell.stdout.on('data', (chunk) => {
      this.pending += String(chunk);
      const end = this.pending.indexOf('\n');
      if (end >= 0 && this.waiting) {
        const line = this.pending.slice(0, end);
        this.pending = this.pending.slice(end + 1);
        this.waiting(line);
      }
    });
    this.shell.stdin.write(SESSION_SETUP);
  }

  async run(script: string): Promise<StepResult> {
    const n = ++this.count;
    const base = join(this.dir, '.doc-test', `step-${n}`);
    writeFileSync(`${base}.sh`, script);
    const line = new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the step did not finish within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
      this.waiting = (text) => {
        clearTimeout(timer);
        done(text);
      };
    });
    this.shell.stdin.write(
      `__status=0; trap '__status=$?' ERR; source "${base}.sh" < /dev/null > "${base}.out" 2> "${base}.err"; trap - ERR; echo "__doctest__ $__status"\n`,
    );
    const status = Number(/^__doctest__ (\d+)$/.exec(await line)?.[1] ?? 1);
    return { status, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: readFileSync(`${base}.err`, 'utf8') };
  }

  async close(): Promise<void> {
    const exited = new Promise((done) => this.shell.once('exit', done));
    this.shell.stdin.end('doctest_stop; exit 0\n');
    await exited;
  }
}

interface Tally {
  commands: number;
  blocks: number;
  outputs: number;
  validated: number;
  notRun: string[];
}

const tally: Tally = { commands: 0, blocks: 0, outputs: 0, validated: 0, notRun: [] };

function location(fence: Pick<Fence, 'page' | 'line'>): string {
  return `${fence.page}:${fence.line}`;
}

/** ```json blocks that are no command's output still have to be JSON; ```yaml blocks YAML. */
function validateIllustration(fence: Fence): void {
  if (fence.lang === 'json') assert.doesNotThrow(() => parseLooseJson(fence.text), `${location(fence)}: not JSON`);
  else if (fence.lang === 'yaml') assert.doesNotThrow(() => parseYaml(fence.text.replace(/^\s*…\s*$/gm, '')), `${location(fence)}: not YAML`);
  else return;
  tally.validated++;
}

/** The page's shell blocks in order, each with the output blocks that follow it. */
function plan(page: string): { fence: Fence; steps: Step[] }[] {
  const fences = fencesOf(page, readFileSync(join(REPO, page), 'utf8'));
  const blocks: { fence: Fence; steps: Step[] }[] = [];
  for (const fence of fences) {
    const previous = blocks.at(-1);
    if (OUTPUT_LANGS.includes(fence.lang) && fence.followsBlock && previous && previous.fence === fences[fences.indexOf(fence) - 1] && !previous.fence.notRun) {
      previous.steps.at(-1)!.expected.push(...outputBlockExpectations(fence));
      continue;
    }
    validateIllustration(fence);
    if (SHELL_LANGS.includes(fence.lang)) blocks.push({ fence, steps: stepsOf(fence) });
  }
  return blocks;
}

describe('the docs run as written', () => {
  after(() => {
    const partial = PAGES.length < ALL_PAGES.length ? ` (only ${PAGES.join(', ')}: DOC_PAGES is set)` : '';
    const summary = `docs examples${partial}: ${tally.commands} commands in ${tally.blocks} blocks executed, ${tally.outputs} outputs checked, ${tally.validated} JSON/YAML blocks validated; ${tally.notRun.length} blocks not run`;
    process.stdout.write(`# ${summary}\n${tally.notRun.map((line) => `#   not run: ${line}\n`).join('')}`);
  });

  before(() => {
    assert.match(
      readFileSync(join(REPO, 'README.md'), 'utf8'),
      new RegExp(`^${README_START}$`, 'm'),
      'the README shows the start command the other pages run against',
    );
  });

  for (const page of PAGES) {
    it(page, async (t: TestContext) => {
      const blocks = plan(page);
      const toRun = blocks.filter(({ fence }) => !fence.notRun);
      for (const { fence } of blocks.filter(({ fence }) => fence.notRun)) {
        tally.notRun.push(`${location(fence)} (${fence.text.split('\n')[0]}…): ${fence.notRun}`);
        t.diagnostic(`not run: ${location(fence)}: ${fence.notRun}`);
      }
      if (toRun.length === 0) return;
      const dir = freshCheckout();
      const session = new Session(dir, await freePort());
      try {
        const startsItsOwn = START_LINE.test(toRun[0]!.steps[0]?.script ?? '');
        START_LINE.lastIndex = 0;
        if (!startsItsOwn) {
          const started = await session.run(runnable(README_START, session.port));
          assert.equal(started.status, 0, `${page}: the service did not start with '${README_START}':\n${started.stderr}`);
        }
        let commands = 0;
        for (const { fence, steps } of toRun) {
          tally.blocks++;
          for (const step of steps) {
            const result = await session.run(runnable(step.script, session.port));
            commands += step.commands;
            const where = `${location(step)} (block at line ${fence.line})`;
            assert.equal(
              result.status,
              0,
              `${where}: exit status ${result.status}\n$ ${step.script}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`,
            );
            const problems = outputProblems(step.expected, result.stdout);
            assert.deepEqual(
              problems,
              [],
              `${where}: the output differs from the page\n$ ${step.script}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`,
            );
            tally.outputs += step.expected.length;
          }
        }
        tally.commands += commands;
        t.diagnostic(`${page}: ${commands} commands in ${toRun.length} blocks`);
      } finally {
        await session.close();
        if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
