/**
 * `npm run bench`: the same loader (autocannon, 50 connections, unique signed alerts) against the
 * bare node:http ceiling and against our service with the embedded store, in one run — and with
 * the MongoDB store too when MONGODB_URI is set (`npm run bench -- --mongo` insists on it).
 * Prints req/s, p50/p99 latency, peak RSS of each and the ratio.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { signedHeaders } from '../helpers/sign.js';
import { freshMongoUri } from '../helpers/mongo-database.js';

const SECRET = 'bench-secret';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;

interface Target {
  name: string;
  command: string[];
  env: Record<string, string>;
  path: string;
}

interface Measurement {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  peakRssMb: number;
}

function uniqueAlert(): string {
  return JSON.stringify({
    event_type: 'security_alert',
    timestamp: new Date().toISOString(),
    source: 'edr',
    data: { alert_id: randomUUID(), severity: 'high', details: { host: 'ws-17', user: 'jdoe', ip: '10.1.2.3' } },
  });
}

async function startTarget(target: Target): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, target.command, { env: { PATH: process.env.PATH ?? '', ...target.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((done, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && entry.port) done(entry.port);
      } catch {
        // not a JSON log line
      }
    });
    child.once('exit', (code) => fail(new Error(`${target.name} exited with ${code}`)));
  });
  return { child, port };
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function load(port: number, path: string, seconds: number) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (request) => {
          const body = uniqueAlert();
          return { ...request, body, headers: signedHeaders(SECRET, body) };
        },
      },
    ],
  });
}

async function measure(target: Target): Promise<Measurement> {
  const { child, port } = await startTarget(target);
  try {
    await load(port, target.path, WARMUP_SECONDS);
    const result = await load(port, target.path, DURATION_SECONDS);
    return {
      name: target.name,
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      peakRssMb: peakRssMb(child.pid!),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
}

const workDir = mkdtempSync(join(tmpdir(), 'tw-bench-'));
const configPath = join(workDir, 'webhook_config.yaml');
writeFileSync(configPath, `sources:\n  edr:\n    secret: "${SECRET}"\n`);

const ceiling = await measure({
  name: 'node:http ceiling',
  command: ['--import', 'tsx', resolve(import.meta.dirname, 'ceiling-server.ts')],
  env: { BENCH_SECRET: SECRET },
  path: '/api/webhooks/edr',
});
const serviceEnv = { PORT: '0', HOST: '127.0.0.1', TW_CONFIG: configPath, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' };
const service = await measure({
  name: 'tw-webhooks (embedded store)',
  command: [resolve(import.meta.dirname, '../../dist/main.js')],
  env: { ...serviceEnv, TW_DATA_DIR: join(workDir, 'data') },
  path: '/api/webhooks/edr',
});

const measurements = [ceiling, service];
if (process.env.MONGODB_URI || process.argv.includes('--mongo')) {
  measurements.push(
    await measure({
      name: 'tw-webhooks (MongoDB store)',
      command: [resolve(import.meta.dirname, '../../dist/main.js')],
      env: { ...serviceEnv, MONGODB_URI: freshMongoUri('tw_bench') },
      path: '/api/webhooks/edr',
    }),
  );
}

console.log(`\n${CONNECTIONS} connections, ${DURATION_SECONDS} s each after ${WARMUP_SECONDS} s warm-up, unique signed alerts\n`);
console.table(
  measurements.map((m) => ({
    target: m.name,
    'req/s': Math.round(m.requestsPerSecond),
    'p50 ms': m.p50,
    'p99 ms': m.p99,
    'non-2xx': m.non2xx,
    errors: m.errors,
    'peak RSS MB': Math.round(m.peakRssMb),
  })),
);
for (const m of measurements.slice(1)) console.log(`ratio (${m.name} / ceiling): ${(m.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}`);
if (measurements.slice(1).some((m) => m.non2xx > 0 || m.errors > 0)) {
  console.error('the service answered non-2xx or failed requests under load');
  process.exitCode = 1;
}
