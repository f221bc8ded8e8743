/**
 * `npm run bench`: our service against what any receiver must do, in one run and with the same
 * loaders, so the ratios hold on a machine whose speed varies day to day (docs/performance.md).
 *
 *   npm run bench                      the full run (about 10 minutes): ceilings, service, sizes, sources, fixed rate, MongoDB, storm
 *   npm run bench -- --no-mongo        without the MongoDB part
 *   npm run bench -- --only sources,mongodb   some parts: sizes, sources, fixed-rate, storm, mongodb, mongodb-storm
 *   npm run bench -- --soak            only the soak: 5 minutes at 1,000 req/s, RSS sampled
 *   npm run bench -- --cpu-prof [--store mongodb]   only the service under load with --cpu-prof: the top self-time functions
 *   --json <file>                      where the results go (default bench-results/<timestamp>.json)
 *   --write-docs                       put the markdown tables into docs/performance.md
 *   --from <file>                      measure nothing: the tables of a run's JSON (with --write-docs: into the docs)
 *   BENCH_SECONDS, BENCH_CONNECTIONS   measured seconds per target (10), closed-loop connections (50)
 *   BENCH_SOAK_SECONDS                 the soak's length (300)
 *
 * MongoDB: a FerretDB on PostgreSQL of its own (the test servers' build), or MONGODB_URI's server.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { down, up } from '../infra/infra.js';
import { readState } from '../infra/state.js';
import { topSelfTimes } from './cpu-profile.js';
import { closedLoop, openLoop, signedAlerts, type LoadResult, type RequestFactory } from './load.js';
import { groupCpuSeconds, loadAverage, peakRssMb, rssMb, runningTargets, startNodeTarget, threadCpuSeconds, type TargetProcess } from './processes.js';
import {
  MANY_SOURCES,
  SERVICE,
  SOURCES_TARGETS,
  markdownReport,
  type BenchResults,
  type CommandsPerIncident,
  type DriverLoopRow,
  type Row,
  type SoakResult,
  type StormRow,
} from './report.js';
import { apiReader, mongoReader, readBack, runStorm, stormConfig, stormSources, type StormPlan } from './storm.js';
import { startWireCounter, type WireCounter } from './wire-counter.js';
import { serviceNodeFlags } from '../helpers/service-command.js';

const { values: options } = parseArgs({
  options: {
    'no-mongo': { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    store: { type: 'string', default: 'embedded' },
    only: { type: 'string' },
    json: { type: 'string' },
    from: { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
  },
});

const SECRET = 'bench-secret';
const API_TOKEN = `tw_bench_${randomBytes(8).toString('hex')}`;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const FIXED_RATE = 2_000;
const SOAK = { rate: 1_000, warmupSeconds: 30, seconds: Number(process.env.BENCH_SOAK_SECONDS ?? 300), sampleEverySeconds: 5 };
const SIZES = [1_024, 10_240, 102_400];
const SMALL = SIZES[0]!;
const STORM: StormPlan = {
  steadyRate: 100,
  burstFactor: 10,
  seconds: 12,
  bursts: [
    [2, 4],
    [7, 9],
  ],
  maxAttempts: 5,
  maxRetryAfterSeconds: 10,
  timeoutSeconds: 10,
};
const STORM_RATE_LIMIT = { requestsPerSecond: 100, burst: 200 };

const repoRoot = resolve(import.meta.dirname, '../..');
const benchDir = import.meta.dirname;
const workDir = mkdtempSync(join(tmpdir(), 'tw-bench-'));
const fresh = (name: string) => {
  const dir = join(workDir, `${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  return dir;
};

function writeConfig(name: string, sources: string): string {
  const path = join(workDir, `${name}.yaml`);
  writeFileSync(path, `sources:\n${sources}`);
  return path;
}
const oneSource = writeConfig('one-source', `  edr:\n    secret: "${SECRET}"\n    auto_triage: true\n    playbook: bench\n`);
const manySourceNames = Array.from({ length: MANY_SOURCES }, (_, index) => `src-${String(index).padStart(5, '0')}`);
const sourceEntry = (name: string) => `  ${name}:\n    secret: "${name}-secret"\n`;
// The lookup's baseline has the same kind of source as the 10,000 (no triage), so only their number differs.
const firstOfMany = writeConfig('first-of-many', sourceEntry(manySourceNames[0]!));
const manySources = writeConfig('many-sources', manySourceNames.map(sourceEntry).join(''));
const storm = stormSources();
const stormSourcesConfig = writeConfig('storm', stormConfig(storm, STORM_RATE_LIMIT));

const edr = () => ({ source: 'edr', secret: SECRET });
const ofMany = (source: string) => ({ source, secret: `${source}-secret` });
const firstSource = () => ofMany(manySourceNames[0]!);
const anyOfMany = () => ofMany(manySourceNames[Math.floor(Math.random() * MANY_SOURCES)]!);

// ── targets ──────────────────────────────────────────────────────────────────────────────────

const startBare = () => startNodeTarget('node:http ceiling', ['--import', 'tsx', join(benchDir, 'ceiling-server.ts')], { BENCH_SECRET: SECRET });
const startDurable = () =>
  startNodeTarget('durable ceiling', ['--import', 'tsx', join(benchDir, 'durable-ceiling-server.ts')], {
    BENCH_SECRET: SECRET,
    BENCH_DATA_DIR: fresh('durable'),
  });
const startKoa = () => startNodeTarget('minimal Koa app', ['--import', 'tsx', join(benchDir, 'minimal-koa-server.ts')], { BENCH_SECRET: SECRET });

/** Run as `npm start` and the image run it (their node flags), plus `nodeArgs`. */
function startService(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<TargetProcess> {
  return startNodeTarget(SERVICE, [...serviceNodeFlags(), ...nodeArgs, join(repoRoot, 'dist/main.js')], {
    PORT: '0',
    HOST: '127.0.0.1',
    TW_CONFIG: oneSource,
    TW_API_TOKEN: API_TOKEN,
    LOG_LEVEL: 'info',
    ...(env.MONGODB_URI ? {} : { TW_DATA_DIR: fresh('data') }),
    ...env,
  });
}

// ── MongoDB: our own FerretDB on PostgreSQL unless MONGODB_URI names a server ───────────────

interface Mongo {
  /** Through the counting proxy. */
  uri(database: string): string;
  wire: WireCounter;
  /** Process groups of the database servers we started (their CPU is reported), none for a given MONGODB_URI. */
  groups: number[];
  close(): Promise<void>;
}

async function openMongo(): Promise<Mongo> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tw-bench-infra-'));
  const given = process.env.MONGODB_URI;
  const uri = given ?? (await up(stateDir, ['mongo'])).MONGODB_URI!;
  const groups = given ? [] : readState(stateDir).flatMap((started) => started.servers.map((server) => server.pid));
  const upstream = new URL(uri);
  const wire = await startWireCounter(upstream.hostname, Number(upstream.port || 27017));
  return {
    uri: (database) => `mongodb://127.0.0.1:${wire.port}/${database}`,
    wire,
    groups,
    close: async () => {
      await wire.close();
      await down(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

const databaseName = (label: string) => `tw_bench_${label}_${randomBytes(3).toString('hex')}`;

// ── measuring ────────────────────────────────────────────────────────────────────────────────

interface Snapshot {
  targets: { eventLoop: number; otherThreads: number }[];
  loader: NodeJS.CpuUsage;
  database: number;
}

function snapshot(targets: readonly TargetProcess[], groups: readonly number[]): Snapshot {
  return {
    targets: targets.map((target) => threadCpuSeconds(target.child.pid!)),
    loader: process.cpuUsage(),
    database: groups.reduce((sum, group) => sum + groupCpuSeconds(group), 0),
  };
}

/** CPU µs per acknowledged request between two snapshots: the targets' event loops and other threads, the loader, the database. */
function cpuPerRequest(before: Snapshot, after: Snapshot, acknowledged: number, withDatabase: boolean): Row['cpuMicros'] {
  const per = (seconds: number) => Math.round((seconds * 1e6) / Math.max(1, acknowledged));
  const eventLoop = after.targets.reduce((sum, cpu, index) => sum + cpu.eventLoop - before.targets[index]!.eventLoop, 0);
  const otherThreads = after.targets.reduce((sum, cpu, index) => sum + cpu.otherThreads - before.targets[index]!.otherThreads, 0);
  const loader = process.cpuUsage(before.loader);
  return {
    eventLoop: per(eventLoop),
    otherThreads: per(otherThreads),
    total: per(eventLoop + otherThreads),
    loader: per((loader.user + loader.system) / 1e6),
    ...(withDatabase && { database: per(after.database - before.database) }),
  };
}

interface Measure {
  section: string;
  target: string;
  bodyBytes: number;
  start: () => Promise<TargetProcess[]>;
  requests: RequestFactory;
  /** Closed loop unless a fixed rate is given. */
  rate?: number;
  mongo?: Mongo;
}

const rows: Row[] = [];

async function measure(spec: Measure): Promise<Row> {
  const targets = await spec.start();
  try {
    const ports = targets.map((target) => target.port);
    const run = (seconds: number): Promise<LoadResult> =>
      spec.rate === undefined ? closedLoop(ports, CONNECTIONS, seconds, spec.requests) : openLoop(ports[0]!, spec.rate, seconds, spec.requests);
    await run(WARMUP_SECONDS);
    const groups = spec.mongo?.groups ?? [];
    const loadBefore = loadAverage();
    const before = snapshot(targets, groups);
    spec.mongo?.wire.reset();
    const result = await run(SECONDS);
    const after = snapshot(targets, groups);
    const commands = spec.mongo?.wire.counts();
    const row: Row = {
      section: spec.section,
      target: spec.target,
      bodyBytes: spec.bodyBytes,
      replicas: targets.length,
      load: spec.rate === undefined ? { kind: 'closed', connections: CONNECTIONS } : { kind: 'open', rate: spec.rate },
      result,
      peakRssMb: Math.round(Math.max(...targets.map((target) => peakRssMb(target.child.pid!)))),
      cpuMicros: cpuPerRequest(before, after, result.ok, groups.length > 0),
      ...(commands && { commandsPerIncident: perIncident(commands, result.ok) }),
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
    rows.push(row);
    progress(row);
    return row;
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
}

function perIncident(commands: Record<string, number>, incidents: number): CommandsPerIncident {
  const byCommand = Object.fromEntries(
    Object.entries(commands)
      .sort(([, a], [, b]) => b - a)
      .map(([name, count]) => [name, Math.round((count / Math.max(1, incidents)) * 1000) / 1000]),
  );
  const total = Object.values(commands).reduce((sum, count) => sum + count, 0);
  return { total: Math.round((total / Math.max(1, incidents)) * 1000) / 1000, byCommand };
}

function progress(row: Row): void {
  const { result, cpuMicros } = row;
  process.stderr.write(
    `bench: ${row.target} (${row.section}): ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50} / p99 ${result.p99} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, CPU ${cpuMicros.total} µs/req${cpuMicros.database === undefined ? '' : ` + ${cpuMicros.database} database`}, ` +
      `${row.commandsPerIncident ? `${row.commandsPerIncident.total} MongoDB commands each, ` : ''}RSS ${row.peakRssMb} MB, load ${row.loadAverage.before}\n`,
  );
}

/** Starts `count` replicas one after the other (the first creates the indexes). */
async function replicas(count: number, env: Record<string, string>): Promise<TargetProcess[]> {
  const started: TargetProcess[] = [];
  for (let index = 0; index < count; index++) started.push(await startService(env));
  return started;
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────

const startedAt = new Date();
const results: BenchResults = {
  startedAt: startedAt.toISOString(),
  commit: gitCommit(),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  settings: {
    connections: CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    fixedRate: FIXED_RATE,
    storm: STORM,
    stormRateLimit: STORM_RATE_LIMIT,
  },
  rows,
  driverLoops: [],
  storms: [],
  failures: [],
};

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}+changes` : commit;
  } catch {
    return 'unknown';
  }
}

/** The parts of a full run, in order; `--only` picks some. */
const parts: Record<string, () => Promise<void>> = {
  sizes: async () => {
    for (const bytes of SIZES) {
      const section = `${bytes / 1024} KB bodies`;
      const requests = signedAlerts(bytes, edr);
      await measure({ section, target: 'node:http ceiling', bodyBytes: bytes, start: async () => [await startBare()], requests });
      await measure({ section, target: 'durable ceiling', bodyBytes: bytes, start: async () => [await startDurable()], requests });
      if (bytes === SMALL) await measure({ section, target: 'minimal Koa app', bodyBytes: bytes, start: async () => [await startKoa()], requests });
      await measure({ section, target: `${SERVICE}, embedded`, bodyBytes: bytes, start: async () => [await startService({})], requests });
    }
  },
  // The lookup alone (every request to the same one of 10,000) and the per-source state besides it
  // (each request to a random one: metric series, sender entries and index pages of 10,000 sources).
  sources: async () => {
    const sources = { section: 'sources', bodyBytes: SMALL };
    await measure({
      ...sources,
      target: SOURCES_TARGETS.one,
      start: async () => [await startService({ TW_CONFIG: firstOfMany })],
      requests: signedAlerts(SMALL, firstSource),
    });
    await measure({
      ...sources,
      target: SOURCES_TARGETS.sameOfMany,
      start: async () => [await startService({ TW_CONFIG: manySources })],
      requests: signedAlerts(SMALL, firstSource),
    });
    await measure({
      ...sources,
      target: SOURCES_TARGETS.anyOfMany,
      start: async () => [await startService({ TW_CONFIG: manySources })],
      requests: signedAlerts(SMALL, anyOfMany),
    });
  },
  'fixed-rate': async () => {
    const fixed = { section: 'fixed rate', bodyBytes: SMALL, requests: signedAlerts(SMALL, edr), rate: FIXED_RATE };
    await measure({ ...fixed, target: 'durable ceiling', start: async () => [await startDurable()] });
    await measure({ ...fixed, target: `${SERVICE}, embedded`, start: async () => [await startService({})] });
  },
  storm: async () => {
    results.storms.push(await measureStorm('embedded', {}));
  },
  mongodb: async () => {
    mongo ??= await openMongo();
    const requests = signedAlerts(SMALL, edr);
    for (const count of [1, 2, 3]) {
      const database = databaseName(`r${count}`);
      await measure({
        section: 'MongoDB',
        target: `${SERVICE}, MongoDB, ${count} replica${count > 1 ? 's' : ''}`,
        bodyBytes: SMALL,
        start: () => replicas(count, { MONGODB_URI: mongo!.uri(database) }),
        requests,
        mongo,
      });
      if (count === 1) results.driverLoops.push(await driverLoop(mongo, database));
    }
  },
  'mongodb-storm': async () => {
    mongo ??= await openMongo();
    results.storms.push(await measureStorm('MongoDB', { MONGODB_URI: mongo.uri(databaseName('storm')) }));
  },
};

async function fullRun(): Promise<void> {
  const only = options.only?.split(',') ?? Object.keys(parts).filter((part) => !part.startsWith('mongodb') || !options['no-mongo']);
  const unknown = only.filter((part) => !(part in parts));
  if (unknown.length > 0) throw new Error(`unknown part(s) ${unknown.join(', ')}; choose from ${Object.keys(parts).join(', ')}`);
  // A part that fails is reported and the run goes on: one broken part should not cost the others' figures.
  for (const part of only) {
    await parts[part]!().catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      results.failures.push({ part, error: message.slice(0, 2000) });
      process.stderr.write(`bench: part ${part} failed: ${message}\n`);
      process.exitCode = 1;
    });
  }
}

async function driverLoop(mongo: Mongo, templateDb: string): Promise<DriverLoopRow> {
  // It logs `measuring` when its warm-up ends: the measured window starts there.
  const loop = await startNodeTarget(
    'driver loop',
    ['--import', 'tsx', join(benchDir, 'mongo-driver-loop.ts')],
    {
      MONGODB_URI: mongo.uri(templateDb),
      BENCH_TEMPLATE_DB: templateDb,
      BENCH_CONNECTIONS: String(CONNECTIONS),
      BENCH_SECONDS: String(SECONDS),
      BENCH_WARMUP_SECONDS: String(WARMUP_SECONDS),
    },
    'measuring',
  );
  try {
    const before = snapshot([loop], mongo.groups);
    const loadBefore = loadAverage();
    mongo.wire.reset();
    const line = await loop.logged('result');
    const after = snapshot([loop], mongo.groups);
    const commands = mongo.wire.counts();
    const { incidents, seconds, p50, p99 } = line as { incidents: number; seconds: number; p50: number; p99: number };
    const row: DriverLoopRow = {
      target: 'mongodb driver loop',
      connections: CONNECTIONS,
      incidentsPerSecond: incidents / seconds,
      p50,
      p99,
      cpuMicros: cpuPerRequest(before, after, incidents, mongo.groups.length > 0),
      commandsPerIncident: perIncident(commands, incidents),
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
    process.stderr.write(
      `bench: driver loop: ${Math.round(row.incidentsPerSecond)} incidents/s, p50 ${p50} / p99 ${p99} ms, ${row.commandsPerIncident.total} commands each\n`,
    );
    return row;
  } finally {
    await loop.stop();
  }
}

async function measureStorm(store: string, env: Record<string, string>): Promise<StormRow> {
  const target = await startService({ TW_CONFIG: stormSourcesConfig, ...env });
  // The MongoDB store is read back from its database, the embedded one through the API (see storm.ts).
  const client = env.MONGODB_URI ? new MongoClient(env.MONGODB_URI) : undefined;
  try {
    const loadBefore = loadAverage();
    const cpuBefore = threadCpuSeconds(target.child.pid!);
    const reader = client
      ? mongoReader(client.db())
      : apiReader(
          `http://127.0.0.1:${target.port}`,
          API_TOKEN,
          storm.map((source) => source.name),
        );
    const result = await runStorm([target.port], storm, STORM, readBack(reader));
    const cpuAfter = threadCpuSeconds(target.child.pid!);
    const row: StormRow = {
      store,
      sources: storm.map((source) => `${source.name} (${source.bodies.length} ${source.bodies.length === 1 ? 'body' : 'bodies'})`),
      result,
      peakRssMb: Math.round(peakRssMb(target.child.pid!)),
      cpuSeconds: Math.round((cpuAfter.eventLoop + cpuAfter.otherThreads - cpuBefore.eventLoop - cpuBefore.otherThreads) * 10) / 10,
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
    process.stderr.write(
      `bench: storm (${store}): ${result.events} events, ${result.acknowledged} acknowledged, ${result.retries} retries, ` +
        `${result.gaveUp} gave up, lost ${result.lost}, stored twice ${result.storedTwice}, p99 first answer ${result.firstAnswer.p99} ms\n`,
    );
    return row;
  } finally {
    await target.stop();
    await client?.close();
  }
}

async function soak(): Promise<SoakResult> {
  const target = await startService({});
  try {
    const requests = signedAlerts(SMALL, edr);
    await openLoop(target.port, SOAK.rate, SOAK.warmupSeconds, requests);
    const samples: { second: number; rssMb: number }[] = [];
    const began = performance.now();
    const sample = () => samples.push({ second: Math.round((performance.now() - began) / 1000), rssMb: Math.round(rssMb(target.child.pid!)) });
    sample();
    const timer = setInterval(sample, SOAK.sampleEverySeconds * 1000);
    const loadBefore = loadAverage();
    const result = await openLoop(target.port, SOAK.rate, SOAK.seconds, requests);
    clearInterval(timer);
    sample();
    const first = samples[0]!.rssMb;
    const last = samples.at(-1)!.rssMb;
    const soaked: SoakResult = {
      rate: SOAK.rate,
      seconds: SOAK.seconds,
      result,
      rssMb: { afterWarmup: first, end: last, max: Math.max(...samples.map((s) => s.rssMb)) },
      growthPercent: Math.round(((last - first) / first) * 1000) / 10,
      samples,
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
    process.stderr.write(`bench: soak: RSS ${first} → ${last} MB (${soaked.growthPercent} %), p99 ${result.p99} ms, non-2xx ${result.non2xx}\n`);
    return soaked;
  } finally {
    await target.stop();
  }
}

async function profile(): Promise<void> {
  const profileDir = fresh('cpu-prof');
  const useMongo = options.store === 'mongodb';
  if (useMongo) mongo = await openMongo();
  const env: Record<string, string> = useMongo ? { MONGODB_URI: mongo!.uri(databaseName('prof')) } : {};
  const row = await measure({
    section: 'profile',
    target: `${SERVICE}, ${useMongo ? 'MongoDB' : 'embedded'}, --cpu-prof`,
    bodyBytes: SMALL,
    start: async () => [await startService(env, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])],
    requests: signedAlerts(SMALL, edr),
    mongo,
  });
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the service wrote no profile into ${profileDir}`);
  const kept = join(repoRoot, 'bench-results', `${startedAt.toISOString().replaceAll(':', '-')}.cpuprofile`);
  mkdirSync(dirname(kept), { recursive: true });
  writeFileSync(kept, readFileSync(join(profileDir, file)));
  const { functions, modules, busyMs } = topSelfTimes(kept, 30);
  // Sampled time is wall time (a descheduled thread still looks busy on a loaded machine), so the
  // shares are the profile's and the µs are those shares of the event loop's measured CPU.
  const perRequest = (percent: number) => Math.round(percent * row.cpuMicros.eventLoop) / 100;
  process.stdout.write(
    `\nSelf time on the event loop (${busyMs} ms sampled, start-up and warm-up included; ${row.cpuMicros.eventLoop} µs of event-loop CPU per request measured).\n` +
      `Profile: ${kept} (open it in Chrome DevTools or speedscope)\n\nBy function:\n`,
  );
  console.table(functions.map(({ function: name, location, percent }) => ({ function: name, location, '%': percent, 'µs/req': perRequest(percent) })));
  process.stdout.write('\nBy module:\n');
  console.table(modules.map(({ location, percent }) => ({ module: location, '%': percent, 'µs/req': perRequest(percent) })));
}

function writeDocs(markdown: string): void {
  const page = join(repoRoot, 'docs/performance.md');
  const text = readFileSync(page, 'utf8');
  const [begin, end] = ['<!-- bench:begin -->', '<!-- bench:end -->'];
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${begin} … ${end} block`);
  writeFileSync(page, `${text.slice(0, from + begin.length)}\n${markdown}\n${text.slice(to)}`);
  process.stderr.write('bench: docs/performance.md updated\n');
}

// ── the run itself, after every declaration above ───────────────────────────────────────────

let mongo: Mongo | undefined;
const cleanUp = async () => {
  await mongo?.close();
  mongo = undefined;
  rmSync(workDir, { recursive: true, force: true });
};
// Interrupted: the targets still running are stopped, and what was measured so far is written.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    results.failures.push({ part: 'run', error: `interrupted by ${signal}` });
    void Promise.all([...runningTargets].map((target) => target.stop()))
      .then(cleanUp)
      .finally(() => {
        if (!options['cpu-prof']) writeResults();
        process.exit(130);
      });
  });
}

if (options.from) {
  // Only the tables again, from a run's JSON (after a change to how they are written, or for the docs).
  rmSync(workDir, { recursive: true, force: true });
  writeTables(JSON.parse(readFileSync(options.from, 'utf8')) as BenchResults);
} else {
  try {
    if (options['cpu-prof']) await profile();
    else if (options.soak) results.soak = await soak();
    else await fullRun();
  } finally {
    await cleanUp();
  }
  if (!options['cpu-prof']) writeResults();
}

function writeTables(from: BenchResults): void {
  const markdown = markdownReport(from);
  process.stdout.write(`\n${markdown}\n`);
  if (options['write-docs']) writeDocs(markdown);
}

function writeResults(): void {
  writeTables(results);
  const jsonPath = options.json ?? join(repoRoot, 'bench-results', `${startedAt.toISOString().replaceAll(':', '-')}.json`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`bench: results in ${jsonPath}\n`);
}
