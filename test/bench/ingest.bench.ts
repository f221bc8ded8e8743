/**
 * `npm run bench`: the same loader (autocannon, 50 connections, unique signed alerts) against the
 * bare node:http ceiling, a minimal Koa app doing the same work, and our service with the embedded
 * store, in one run — and with the MongoDB store too when MONGODB_URI is set (`npm run bench --
 * --mongo` insists on it). Prints req/s, p50/p99 latency, peak RSS and the CPU each request cost the
 * target and the loader, the ratios, and what the embedded store alone sustains without HTTP.
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { signedHeaders } from '../helpers/sign.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { testSource } from '../helpers/source.js';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { createIngest } from '../../src/ingest/ingest.js';

const SECRET = 'bench-secret';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const STORE_SECONDS = 5;

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
  /** CPU per request in µs: the target's event loop, its other threads, and the loader. */
  cpu: { eventLoop: number; otherThreads: number; loader: number };
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

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
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && entry.port) done(entry.port);
      } catch {
        // not a JSON log line
      }
    });
    child.once('exit', (code) => fail(new Error(`${target.name} exited with ${code}`)));
    // A target logging below info never says `listening`: it was given a port, wait until it answers.
    const fixedPort = Number(target.env.PORT ?? 0);
    if (fixedPort > 0) void waitUntilListening(fixedPort).then(() => done(fixedPort), fail);
  });
  return { child, port };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function waitUntilListening(port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`nothing listens on ${port} after 60 s`);
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** CPU seconds used so far by each thread of a process; the event loop is the thread whose id is the pid. */
function threadCpuSeconds(pid: number): { eventLoop: number; otherThreads: number } {
  const totals = { eventLoop: 0, otherThreads: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    // utime and stime are fields 14 and 15; the command name before them may contain spaces.
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    if (Number(tid) === pid) totals.eventLoop += seconds;
    else totals.otherThreads += seconds;
  }
  return totals;
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
    const targetBefore = threadCpuSeconds(child.pid!);
    const loaderBefore = process.cpuUsage();
    const result = await load(port, target.path, DURATION_SECONDS);
    const loader = process.cpuUsage(loaderBefore);
    const targetAfter = threadCpuSeconds(child.pid!);
    const microsPerRequest = (seconds: number) => (seconds * 1e6) / result.requests.total;
    return {
      name: target.name,
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      peakRssMb: peakRssMb(child.pid!),
      cpu: {
        eventLoop: microsPerRequest(targetAfter.eventLoop - targetBefore.eventLoop),
        otherThreads: microsPerRequest(targetAfter.otherThreads - targetBefore.otherThreads),
        loader: microsPerRequest((loader.user + loader.system) / 1e6),
      },
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
const minimalKoa = await measure({
  name: 'minimal Koa app',
  command: ['--import', 'tsx', resolve(import.meta.dirname, 'minimal-koa-server.ts')],
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

// The same service with accepted events not logged (LOG_LEVEL=warn): what the info line per event costs.
const serviceQuiet = await measure({
  name: 'tw-webhooks (embedded, LOG_LEVEL=warn)',
  command: [resolve(import.meta.dirname, '../../dist/main.js')],
  env: { ...serviceEnv, LOG_LEVEL: 'warn', PORT: String(await freePort()), TW_DATA_DIR: join(workDir, 'data-quiet') },
  path: '/api/webhooks/edr',
});

const measurements = [ceiling, minimalKoa, service, serviceQuiet];
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
    'CPU µs/req loop+threads': `${Math.round(m.cpu.eventLoop)}+${Math.round(m.cpu.otherThreads)}`,
    'loader µs/req': Math.round(m.cpu.loader),
  })),
);
for (const m of measurements.slice(1)) console.log(`ratio (${m.name} / ceiling): ${(m.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}`);

const storeAlone = await measureEmbeddedStoreAlone();
console.log(
  `embedded store alone (${CONNECTIONS} concurrent inserts, no HTTP, ${STORE_SECONDS} s): ${Math.round(storeAlone.perSecond)} incidents/s, ` +
    `store thread CPU ${Math.round(storeAlone.storeThreadMicros)} µs/incident`,
);
if (measurements.slice(1).some((m) => m.non2xx > 0 || m.errors > 0)) {
  console.error('the service answered non-2xx or failed requests under load');
  process.exitCode = 1;
}

/**
 * The durable store's own limit, so the bench tells the store's share of a request from the rest:
 * as many concurrent inserts as the loader has connections, each awaiting its commit.
 */
async function measureEmbeddedStoreAlone(): Promise<{ perSecond: number; storeThreadMicros: number }> {
  const store = new EmbeddedStore(join(workDir, 'store-alone'));
  await store.open();
  // The service's own use-case (parse, normalize, dedupe key, insert) without HTTP or verification.
  const ingest = createIngest(store);
  const source = testSource({ name: 'edr' });
  const before = threadCpuSeconds(process.pid).otherThreads;
  const until = performance.now() + STORE_SECONDS * 1000;
  let stored = 0;
  const client = async () => {
    while (performance.now() < until) {
      const result = await ingest(source, { rawBody: Buffer.from(uniqueAlert()), headers: {}, receivedAt: new Date() });
      if (!result.ok) throw result.error;
      stored++;
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, client));
  const seconds = (performance.now() - startedAt) / 1000;
  // The loader's own threads are idle here, so the process's non-main CPU is the store thread's.
  const storeThreadSeconds = threadCpuSeconds(process.pid).otherThreads - before;
  await store.close();
  return { perSecond: stored / seconds, storeThreadMicros: (storeThreadSeconds * 1e6) / stored };
}
