/**
 * Backup and restore of the embedded store as an operator does it, against the real service
 * process and the real tw-cli: a backup taken while senders keep delivering, its file put into a
 * fresh data directory, the service started on it; and the on-demand integrity check through the
 * API and `tw-cli store check`, on both stores.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { allIncidents, assertError, deliver, getJson, request, TEST_TOKEN } from '../helpers/api-client.js';
import { twCli } from '../helpers/cli.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const ADMIN = { authorization: `Bearer ${TEST_TOKEN}` };

const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.stop();
});

async function serve(options: Parameters<typeof startService>[0]): Promise<RunningService> {
  const service = await startService(options);
  services.push(service);
  return service;
}

/** An alert with a 2 KB field: a few thousand make a file whose backup takes many steps. */
function paddedAlert(): string {
  return JSON.stringify({
    event_type: 'security_alert',
    timestamp: '2026-01-15T10:00:00Z',
    source: 'edr',
    data: { alert_id: randomUUID(), severity: 'high', notes: 'x'.repeat(2000) },
  });
}

interface Acknowledged {
  id: string;
  number: string;
  /** When the 201 arrived. */
  atMs: number;
}

/** Senders delivering back to back until stopped; every 201 is kept with the time it arrived. */
function load(service: RunningService, senders: number) {
  const acknowledged: Acknowledged[] = [];
  const latencies: { startMs: number; ms: number }[] = [];
  let running = true;
  const send = async () => {
    while (running) {
      const startMs = Date.now();
      const reply = await deliver(service.url, 'edr', 'edr-secret', paddedAlert());
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      const atMs = Date.now();
      latencies.push({ startMs, ms: atMs - startMs });
      acknowledged.push({ id: reply.body.incident_id, number: reply.body.incident_number, atMs });
    }
  };
  const all = Promise.all(Array.from({ length: senders }, send));
  return {
    acknowledged,
    latencies,
    stop: async () => {
      running = false;
      await all;
    },
  };
}

describe('backup and restore of the embedded store', () => {
  it('a backup taken under load, restored into a fresh data directory, serves every incident acknowledged before it began', async (t) => {
    const original = await serve({ config: CONFIG });
    const senders = load(original, 8);
    while (senders.acknowledged.length < 3000) await new Promise((waited) => setTimeout(waited, 100));

    const backupStartMs = Date.now();
    const before = senders.acknowledged.filter((ack) => ack.atMs < backupStartMs);
    const backup = await twCli(['store', 'backup'], { TW_API_URL: original.url, TW_API_TOKEN: TEST_TOKEN });
    const backupEndMs = Date.now();
    await senders.stop();
    assert.equal(backup.code, 0, backup.stderr);
    const during = senders.acknowledged.filter((ack) => ack.atMs >= backupStartMs && ack.atMs <= backupEndMs);
    assert.ok(during.length > 0, 'deliveries were acknowledged while the backup ran');

    // The CLI drew the copy's progress on stderr and printed the report on stdout.
    assert.match(backup.stderr, /^backup job-[0-9a-f-]+: .*pages\)?$/m);
    assert.match(backup.stderr, /done 100% \([\d,]+\/[\d,]+ pages\)/);
    const report = Object.fromEntries(
      backup.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(': ')),
    );
    assert.match(report.file, /^tw-webhooks-\d{8}T\d{9}Z\.sqlite$/);
    const file = join(original.dataDir, 'backups', report.file);
    assert.equal(statSync(file).size, Number(report.bytes));
    assert.ok(Number(report.incidents) >= before.length, `${report.incidents} incidents in the copy, ${before.length} acknowledged before it began`);
    assert.deepEqual(readdirSync(join(original.dataDir, 'backups')), [report.file], 'one self-contained file: no -wal, no .partial');
    // What the backup costs senders: their latencies while it ran against those of the 5 s before.
    const window = (fromMs: number, toMs: number) =>
      senders.latencies
        .filter((latency) => latency.startMs >= fromMs && latency.startMs <= toMs)
        .map((latency) => latency.ms)
        .sort((a, b) => a - b);
    const summary = (ms: number[]) => `median ${ms[ms.length >> 1]} ms, slowest ${ms.at(-1)} ms`;
    t.diagnostic(
      `backup of ${report.incidents} incidents, ${(Number(report.bytes) / 1e6).toFixed(1)} MB in ${report.duration_ms} ms; ` +
        `${during.length} deliveries acknowledged meanwhile (${summary(window(backupStartMs, backupEndMs))}; before it: ${summary(window(backupStartMs - 5000, backupStartMs))})`,
    );

    const job = await getJson(original.url, `/api/jobs/${report.job_id}`);
    assert.equal(job.status, 200);
    assert.equal(job.body.kind, 'backup');
    assert.equal(job.body.state, 'done');
    assert.equal(job.body.progress.done, job.body.progress.total);
    assert.equal(job.body.report.incidents, Number(report.incidents));

    // The restore of docs/operations.md: the file as tw-webhooks.sqlite in an empty data directory.
    const restoredDir = join(mkdtempSync(join(tmpdir(), 'tw-restore-')), 'data');
    mkdirSync(restoredDir);
    copyFileSync(file, join(restoredDir, 'tw-webhooks.sqlite'));
    const restored = await serve({ config: CONFIG, dataDir: restoredDir });
    const incidents = new Map((await allIncidents(restored.url)).map((incident) => [incident.incident_id, incident.incident_number]));
    const missing = before.filter((ack) => incidents.get(ack.id) !== ack.number);
    assert.deepEqual(missing, [], `every incident acknowledged before the backup began, with its number (${before.length})`);
    assert.equal(incidents.size, Number(report.incidents));

    // Numbering goes on from the restored counter: no number is handed out twice.
    const next = await deliver(restored.url, 'edr', 'edr-secret', paddedAlert());
    assert.equal(next.status, 201);
    assert.equal([...incidents.values()].includes(next.body.incident_number), false, `${next.body.incident_number} is new`);
    const check = await twCli(['store', 'check'], { TW_API_URL: restored.url, TW_API_TOKEN: TEST_TOKEN });
    assert.equal(check.code, 0, check.stderr + check.stdout);
    assert.match(check.stdout, /^tw-webhooks\.sqlite\s+ok\s+-$/m);
  });

  it('keeps TW_BACKUP_KEEP backups in TW_BACKUP_DIR, refuses a second backup while one runs, and reports each as a job', async () => {
    const backupDir = join(mkdtempSync(join(tmpdir(), 'tw-backups-')), 'nested', 'backups');
    const service = await serve({ config: CONFIG, env: { TW_BACKUP_DIR: backupDir, TW_BACKUP_KEEP: '2' } });
    for (let i = 0; i < 50; i++) assert.equal((await deliver(service.url, 'edr', 'edr-secret', paddedAlert())).status, 201);

    const [first, second] = await Promise.all([1, 2].map(() => request(service.url, '/api/store/backup', { method: 'POST', headers: ADMIN })));
    const answers = [first!, second!].sort((a, b) => a.status - b.status);
    assert.equal(answers[0]!.status, 202, JSON.stringify(answers[0]!.body));
    assert.match(answers[0]!.headers.get('location') ?? '', /^\/api\/jobs\/job-/);
    assertError(answers[1]!, 409, 'conflict', new RegExp(`^A backup job is already running: ${answers[0]!.body.job_id}$`));

    const files: string[] = [];
    for (let round = 0; round < 3; round++) {
      const run = await twCli(['store', 'backup', '-o', 'json'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
      // The first round may still meet the backup started above.
      if (run.code !== 0 && /already running/.test(run.stderr)) {
        round--;
        await new Promise((waited) => setTimeout(waited, 100));
        continue;
      }
      assert.equal(run.code, 0, run.stderr);
      const job = JSON.parse(run.stdout);
      assert.equal(job.state, 'done');
      assert.equal(job.report.incidents, 50);
      files.push(job.report.file);
    }
    assert.deepEqual(readdirSync(backupDir).sort(), files.slice(-2), 'the two newest are kept');

    const listed = await twCli(['job', 'list', '--kind', 'backup'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(
      listed.stdout
        .trim()
        .split('\n')
        .filter((line) => /\sbackup\s+done\s/.test(line)).length,
      4,
    );
  });
});

describe('the on-demand integrity check and backup through the API, on each store', () => {
  for (const [kind, env] of [
    ['embedded', () => ({})],
    ['MongoDB', () => ({ MONGODB_URI: freshMongoUri('tw_admin') })],
  ] as const) {
    it(`${kind}: POST /api/store/integrity-check answers the report, one check at a time`, async () => {
      const service = await serve({ config: CONFIG, env: env() });
      for (let i = 0; i < 20; i++) assert.equal((await deliver(service.url, 'edr', 'edr-secret', paddedAlert())).status, 201);
      const replies = await Promise.all(
        Array.from({ length: 4 }, () => request(service.url, '/api/store/integrity-check', { method: 'POST', headers: ADMIN })),
      );
      const reports = replies.filter((reply) => reply.status === 200);
      assert.ok(reports.length >= 1, JSON.stringify(replies.map((reply) => reply.body)));
      for (const reply of replies.filter((candidate) => candidate.status !== 200)) {
        assertError(reply, 409, 'conflict', 'An integrity check is already running; retry when it has finished');
      }
      for (const { body } of reports) {
        assert.equal(body.ok, true, JSON.stringify(body));
        assert.ok(body.parts.some((part: { name: string }) => part.name === (kind === 'embedded' ? 'tw-webhooks.sqlite' : 'incidents')));
        for (const part of body.parts) assert.deepEqual(Object.keys(part).sort(), ['name', 'ok', 'problems']);
      }
      const cli = await twCli(['store', 'check', '-o', 'json'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(JSON.parse(cli.stdout).ok, true);
    });
  }

  it('MongoDB: a backup through the API answers 405 with where MongoDB backups are described', async () => {
    const service = await serve({ config: CONFIG, env: { MONGODB_URI: freshMongoUri('tw_admin') } });
    const reply = await request(service.url, '/api/store/backup', { method: 'POST', headers: ADMIN });
    assertError(reply, 405, 'method_not_allowed', /mongodump or volume snapshots.*docs\/operations\.md \("Backup and restore"\)/);
    const cli = await twCli(['store', 'backup'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^error: The MongoDB store is backed up with mongodump/);
    assert.equal(existsSync(join(service.dataDir, 'backups')), false);
  });
});
