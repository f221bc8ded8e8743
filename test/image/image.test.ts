/**
 * The container image, run for real with podman (scripts/image-test.sh builds it and sets TW_IMAGE):
 * nothing in it but node, its libraries and the app (no shell, no npm); read-only root filesystem,
 * numeric non-root user, a mounted config and data volume. It answers the
 * spec's signed test event, and a SIGTERM in the middle of a burst cuts no request off: each one is
 * answered 2xx and stored, or refused before it was read (and then not stored); the process exits 0.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signedHeaders } from '../helpers/sign.js';
import { freePort } from '../infra/process.js';

const run = promisify(execFile);
const IMAGE = process.env.TW_IMAGE;
/** The image's runtime user; the data volume must be writable by it. */
const IMAGE_UID = 65532;
const API_TOKEN = 'tw_image_test_token_0123';
// crun fails on these machines (hybrid cgroups, raising limits); runc with fixed limits works.
const PODMAN = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

interface Container {
  name: string;
  url: string;
  exited: Promise<number | null>;
  output: () => string;
}

async function startContainer(configDir: string, dataDir: string): Promise<Container> {
  const name = `tw-image-test-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const child: ChildProcess = spawn(
    'podman',
    [
      ...PODMAN,
      'run',
      '--rm',
      '--name',
      name,
      '--network',
      'host',
      ...LIMITS,
      '--read-only',
      '--tmpfs',
      '/tmp',
      '-v',
      `${configDir}:/etc/tw-webhooks:ro`,
      '-v',
      `${dataDir}:/var/lib/tw-webhooks`,
      '-e',
      `PORT=${port}`,
      '-e',
      'HOST=127.0.0.1',
      '-e',
      'TW_CONFIG=/etc/tw-webhooks/webhook_config.yaml',
      '-e',
      `TW_API_TOKEN=${API_TOKEN}`,
      IMAGE!,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let running = true;
  void exited.then(() => (running = false));
  for (;;) {
    if (!running) throw new Error(`container exited before it was ready:\n${output}`);
    if (Date.now() > deadline) throw new Error(`container not ready within 60 s:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { name, url, exited, output: () => output };
}

type Outcome =
  | { kind: 'stored'; alertId: string; incidentId: string }
  | { kind: 'refused' | 'reset'; alertId: string; error: string }
  | { kind: 'answered'; alertId: string; status: number; body: string };

/** One delivery on its own connection, classified by what the client saw. */
function deliver(url: string, alertId: string): Promise<Outcome> {
  const body = JSON.stringify({ event_type: 'security_alert', source: 'email-gateway', data: { alert_id: alertId, severity: 'high' } });
  return new Promise((resolve) => {
    const req = request(
      `${url}/api/webhooks/email-gateway`,
      {
        method: 'POST',
        agent: false,
        headers: { ...signedHeaders('your-secret', body), connection: 'close', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', (error) => resolve({ kind: 'reset', alertId, error: `response cut off: ${error.message}` }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 201) resolve({ kind: 'stored', alertId, incidentId: (JSON.parse(text) as { incident_id: string }).incident_id });
          else resolve({ kind: 'answered', alertId, status, body: text });
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ kind: error.code === 'ECONNREFUSED' ? 'refused' : 'reset', alertId, error: `${error.code ?? ''} ${error.message}` }),
    );
    req.end(body);
  });
}

async function storedIncidents(url: string): Promise<Map<string, string>> {
  const byExternalId = new Map<string, string>();
  let cursor = '';
  do {
    const response = await fetch(`${url}/api/incidents?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    assert.equal(response.status, 200);
    const page = (await response.json()) as { items: { incident_id: string; external_id: string | null }[]; next: string | null };
    for (const item of page.items) byExternalId.set(item.external_id ?? '', item.incident_id);
    cursor = page.next ?? '';
  } while (cursor);
  return byExternalId;
}

describe('the container image', () => {
  let workDir: string;
  let configDir: string;
  let dataDir: string;
  const containers: Container[] = [];

  before(() => {
    if (!IMAGE) throw new Error('TW_IMAGE is not set: run scripts/image-test.sh (npm run test:image), which builds the image and runs this test');
    workDir = mkdtempSync(join(tmpdir(), 'tw-image-test-'));
    configDir = join(workDir, 'config');
    dataDir = join(workDir, 'data');
    mkdirSync(configDir);
    mkdirSync(dataDir);
    // The spec's source and its "Send Test Event" secret.
    writeFileSync(
      join(configDir, 'webhook_config.yaml'),
      'sources:\n  email-gateway:\n    secret: "your-secret"\n    auto_triage: true\n    playbook: phishing_triage\n',
    );
    chownSync(dataDir, IMAGE_UID, IMAGE_UID);
  });

  after(async () => {
    for (const container of containers) await run('podman', [...PODMAN, 'rm', '--force', '--ignore', container.name]).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('is set to run as the numeric non-root user, node started directly by an exec-form command (no shell)', async () => {
    const { stdout } = await run('podman', ['image', 'inspect', IMAGE!, '--format', '{{.Config.User}} {{json .Config.Cmd}} {{json .Config.Entrypoint}}']);
    assert.equal(stdout.trim(), `${IMAGE_UID}:${IMAGE_UID} ["node","--max-semi-space-size=16","--no-allocation-site-pretenuring","dist/main.js"] null`);
  });

  it('holds node, its libraries and the app, and nothing to run besides: no shell, no npm, no package manager', async () => {
    const { stdout: id } = await run('podman', [...PODMAN, 'create', IMAGE!]);
    const container = id.trim();
    try {
      const { stdout: listing } = await run('sh', ['-c', `podman ${PODMAN.join(' ')} export ${container} | tar -t`], { maxBuffer: 64 << 20 });
      const files = listing.split('\n').filter(Boolean);
      const outsideApp = files.filter((file) => !file.startsWith('app/'));
      const executables = outsideApp.filter((file) => /^(usr\/)?(local\/)?s?bin\/./.test(file));
      assert.deepEqual(executables, ['usr/local/bin/node']);
      for (const absent of [/(^|\/)(sh|bash|dash|busybox)$/, /(^|\/)npm(-cli\.js)?$/, /(^|\/)npx$/, /(^|\/)(apt|apt-get|dpkg)$/]) {
        assert.deepEqual(
          files.filter((file) => absent.test(file)),
          [],
          String(absent),
        );
      }
    } finally {
      await run('podman', [...PODMAN, 'rm', container]);
    }
    // And the runtime agrees: there is no /bin/sh to exec.
    const shell = await run('podman', [...PODMAN, 'run', '--rm', '--network', 'none', ...LIMITS, '--entrypoint', '/bin/sh', IMAGE!, '-c', 'true']).then(
      () => 'ran',
      (error: { stderr?: string }) => String(error.stderr),
    );
    assert.match(shell, /no such file or directory|not found/i);
  });

  let first: Container;
  const outcomes: Outcome[] = [];

  it("answers the spec's signed test event with 201 accepted", async () => {
    first = await startContainer(configDir, dataDir);
    containers.push(first);
    const body = '{"event_type":"test","data":{}}';
    const response = await fetch(`${first.url}/api/webhooks/email-gateway`, { method: 'POST', body, headers: signedHeaders('your-secret', body) });
    assert.equal(response.status, 201);
    const accepted = (await response.json()) as Record<string, string>;
    assert.equal(accepted.status, 'accepted');
    assert.match(accepted.incident_number ?? '', /^INC-\d{4}-\d{4,}$/);
  });

  it('on SIGTERM during a burst answers or refuses every request, cuts none off, and exits 0', async () => {
    const WORKERS = 32;
    const ACKS_BEFORE_TERM = 300;
    let acked = 0;
    let terminated: Promise<unknown> | undefined;
    const worker = async () => {
      // Each worker sends until the server refuses it: the listener is gone.
      for (;;) {
        const outcome = await deliver(first.url, randomUUID());
        outcomes.push(outcome);
        if (outcome.kind === 'stored' && ++acked === ACKS_BEFORE_TERM) {
          terminated = run('podman', [...PODMAN, 'kill', '--signal', 'TERM', first.name]);
        }
        if (outcome.kind === 'refused') return;
        if (outcome.kind !== 'stored' && terminated === undefined) throw new Error(`before SIGTERM: ${JSON.stringify(outcome)}`);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await terminated;
    const code = await first.exited;
    const byKind = (kind: Outcome['kind']) => outcomes.filter((outcome) => outcome.kind === kind);
    const counts = Object.fromEntries((['stored', 'refused', 'reset', 'answered'] as const).map((kind) => [kind, byKind(kind).length]));
    process.stderr.write(`image burst: ${JSON.stringify(counts)}\n`);
    assert.deepEqual(byKind('answered'), [], 'every answer during the drain is a 2xx');
    assert.equal(code, 0, `exit code 0 after SIGTERM; output:\n${first.output().slice(-3000)}`);
    assert.match(first.output(), /"msg":"shutting down"/);
    assert.ok(counts.stored! > ACKS_BEFORE_TERM, 'requests accepted while the burst ran');
  });

  it('keeps every acknowledged incident, and none of the refused requests, across a restart', async () => {
    const second = await startContainer(configDir, dataDir);
    containers.push(second);
    const stored = await storedIncidents(second.url);
    const acknowledged = outcomes.filter((outcome) => outcome.kind === 'stored');
    const lost = acknowledged.filter((outcome) => stored.get(outcome.alertId) !== outcome.incidentId);
    assert.deepEqual(lost, [], 'every 201 is stored under the id it announced');
    // A reset is only acceptable for a request the server never read: it must not have been stored.
    const cutOff = outcomes.filter((outcome) => outcome.kind !== 'stored' && stored.has(outcome.alertId));
    assert.deepEqual(cutOff, [], 'no request was processed without its answer reaching the sender');
    await run('podman', [...PODMAN, 'kill', '--signal', 'TERM', second.name]);
    assert.equal(await second.exited, 0);
  });
});
