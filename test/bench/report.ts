/** The bench's results: their JSON shape, the aims they are held to, and the markdown tables docs/performance.md shows. */
import type { LoadResult, OpenLoopResult } from './load.js';
import type { StormPlan, StormResult } from './storm.js';

interface LoadAverage {
  before: number;
  after: number;
}

export interface CommandsPerIncident {
  total: number;
  byCommand: Record<string, number>;
}

export interface Row {
  section: string;
  target: string;
  bodyBytes: number;
  replicas: number;
  load: { kind: 'closed'; connections: number } | { kind: 'open'; rate: number };
  result: LoadResult | OpenLoopResult;
  peakRssMb: number;
  /** Per acknowledged request: the target's event loop(s), its other threads, both, the loader, the database servers. */
  cpuMicros: { eventLoop: number; otherThreads: number; total: number; loader: number; database?: number };
  /** MongoDB messages the target sent per acknowledged incident, counted on the wire. */
  commandsPerIncident?: CommandsPerIncident;
  loadAverage: LoadAverage;
}

export interface DriverLoopRow {
  target: string;
  connections: number;
  incidentsPerSecond: number;
  p50: number;
  p99: number;
  cpuMicros: Row['cpuMicros'];
  commandsPerIncident: CommandsPerIncident;
  loadAverage: LoadAverage;
}

export interface StormRow {
  store: string;
  sources: string[];
  result: StormResult;
  peakRssMb: number;
  cpuSeconds: number;
  loadAverage: LoadAverage;
}

export interface SoakResult {
  rate: number;
  seconds: number;
  result: OpenLoopResult;
  rssMb: { afterWarmup: number; end: number; max: number };
  growthPercent: number;
  samples: { second: number; rssMb: number }[];
  loadAverage: LoadAverage;
}

export interface BenchResults {
  startedAt: string;
  commit: string;
  node: string;
  cpus: string;
  settings: {
    connections: number;
    seconds: number;
    warmupSeconds: number;
    fixedRate: number;
    storm: StormPlan;
    stormRateLimit: { requestsPerSecond: number; burst: number };
  };
  rows: Row[];
  driverLoops: DriverLoopRow[];
  storms: StormRow[];
  soak?: SoakResult;
  /** Parts of the run that failed, with why. */
  failures: { part: string; error: string }[];
  aims?: Aim[];
}

interface Aim {
  aim: string;
  measured: string;
  met: boolean;
}

export const SERVICE = 'tw-webhooks';
/** File-declared sources of the lookup part. */
export const MANY_SOURCES = 10_000;
const many = `${MANY_SOURCES.toLocaleString('en')} sources`;
/** The lookup part's targets, all of one shape of source (see ingest.bench.ts). */
export const SOURCES_TARGETS = {
  one: `${SERVICE}, embedded, 1 source`,
  sameOfMany: `${SERVICE}, embedded, ${many}, every request to the same one`,
  anyOfMany: `${SERVICE}, embedded, ${many}, each request to a random one`,
};
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
/** A latency: tenths below 10 ms, whole milliseconds above. */
const ms = (value: number) => (value < 10 ? fixed(value, 1) : thousands(value));
const thousands = (value: number) => Math.round(value).toLocaleString('en');

function find(results: BenchResults, section: string, target: string): Row | undefined {
  return results.rows.find((row) => row.section === section && row.target === target);
}

/** The issue's aims, from this run's rows (an aim whose rows did not run is left out). */
function aims(results: BenchResults): Aim[] {
  const list: Aim[] = [];
  const small = '1 KB bodies';
  const bare = find(results, small, 'node:http ceiling');
  const service = find(results, small, `${SERVICE}, embedded`);
  if (bare && service) {
    const ratio = service.cpuMicros.total / bare.cpuMicros.total;
    list.push({
      aim: 'CPU per durable incident ≤ 3 × the bare ceiling’s per request',
      measured: `${fixed(ratio)} × (${service.cpuMicros.total} vs ${bare.cpuMicros.total} µs)`,
      met: ratio <= 3,
    });
  }
  const atRate = find(results, 'fixed rate', `${SERVICE}, embedded`);
  if (atRate) {
    const { p99, non2xx, errors, requestsPerSecond } = atRate.result;
    const kept = requestsPerSecond >= 0.98 * results.settings.fixedRate && non2xx + errors === 0;
    list.push({
      aim: `p99 ≤ 25 ms at a fixed ${thousands(results.settings.fixedRate)} req/s (embedded)`,
      measured: `${ms(p99)} ms at ${thousands(requestsPerSecond)} req/s${non2xx + errors > 0 ? `, ${non2xx + errors} failed` : ''}`,
      met: p99 <= 25 && kept,
    });
  }
  const serviceRows = results.rows.filter((row) => row.target.startsWith(SERVICE));
  if (serviceRows.length > 0) {
    const worst = serviceRows.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    list.push({ aim: 'peak RSS ≤ 250 MB', measured: `${worst.peakRssMb} MB at most (${worst.target}, ${worst.section})`, met: worst.peakRssMb <= 250 });
  }
  const one = find(results, 'sources', SOURCES_TARGETS.one);
  const sameOfMany = find(results, 'sources', SOURCES_TARGETS.sameOfMany);
  const anyOfMany = find(results, 'sources', SOURCES_TARGETS.anyOfMany);
  if (one && sameOfMany) {
    const ratio = sameOfMany.cpuMicros.total / one.cpuMicros.total;
    const spread = anyOfMany ? `; spread over all of them ${fixed(anyOfMany.cpuMicros.total / one.cpuMicros.total)} × (${anyOfMany.cpuMicros.total} µs)` : '';
    list.push({
      aim: `flat lookup cost from 1 to ${thousands(MANY_SOURCES)} sources (CPU within 10 %)`,
      measured: `${fixed(ratio)} × CPU (${one.cpuMicros.total} → ${sameOfMany.cpuMicros.total} µs), p99 ${one.result.p99} → ${sameOfMany.result.p99} ms${spread}`,
      met: ratio <= 1.1,
    });
  }
  if (results.soak) {
    const { growthPercent, rssMb } = results.soak;
    list.push({
      aim: `RSS growth ≤ 10 % over a ${results.soak.seconds / 60}-minute soak at ${thousands(results.soak.rate)} req/s`,
      measured: `${growthPercent} % (${rssMb.afterWarmup} → ${rssMb.end} MB)`,
      met: growthPercent <= 10,
    });
  }
  const mongo = find(results, 'MongoDB', `${SERVICE}, MongoDB, 1 replica`);
  const loop = results.driverLoops[0];
  if (mongo && loop) {
    const ratio = mongo.result.requestsPerSecond / loop.incidentsPerSecond;
    list.push({
      aim: 'MongoDB path ≥ 0.8 × a bare driver loop doing the same writes',
      measured: `${fixed(ratio)} × (${thousands(mongo.result.requestsPerSecond)} vs ${thousands(loop.incidentsPerSecond)}/s)`,
      met: ratio >= 0.8,
    });
  }
  for (const { store, result } of results.storms) {
    list.push({
      aim: `storm (${store}): nothing acknowledged is lost or stored twice`,
      measured: `${result.lost} lost, ${result.storedTwice} stored twice of ${thousands(result.acknowledged)}${result.unresolved > 0 ? `, ${result.unresolved} still queued` : ''}`,
      met: result.lost === 0 && result.storedTwice === 0 && result.unresolved === 0,
    });
  }
  return list;
}

function table(header: string[], lines: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...lines.map((line) => `| ${line.join(' | ')} |`)].join('\n');
}

function topCommands(commands: CommandsPerIncident | undefined): string {
  if (!commands) return '–';
  const named = Object.entries(commands.byCommand)
    .filter(([, count]) => count >= 0.01)
    .map(([name, count]) => `${name} ${fixed(count)}`);
  return `${fixed(commands.total)} (${named.join(', ')})`;
}

export function markdownReport(results: BenchResults): string {
  results.aims = aims(results);
  const loads = [
    ...results.rows.map((row) => row.loadAverage),
    ...results.driverLoops.map((row) => row.loadAverage),
    ...results.storms.map((row) => row.loadAverage),
  ];
  const loadRange = loads.length > 0 ? `${fixed(Math.min(...loads.map((l) => l.before)), 1)}–${fixed(Math.max(...loads.map((l) => l.after)), 1)}` : '–';
  const { settings } = results;
  const parts: string[] = [
    `Run of ${results.startedAt} at ${results.commit}, Node ${results.node}, ${results.cpus}; 1-minute load average ${loadRange} during the run. ` +
      `Closed loop: ${settings.connections} connections, ${settings.seconds} s per target after ${settings.warmupSeconds} s of warm-up.`,
  ];
  if (results.aims.length > 0) {
    parts.push(
      '### Aims',
      table(
        ['aim', 'measured', 'met'],
        results.aims.map((aim) => [aim.aim, aim.measured, aim.met ? 'yes' : '**no**']),
      ),
    );
  }

  const closed = results.rows.filter((row) => row.load.kind === 'closed' && row.section.endsWith('KB bodies'));
  if (closed.length > 0) {
    const lines = closed.map((row) => {
      const bare = find(results, row.section, 'node:http ceiling');
      const durable = find(results, row.section, 'durable ceiling');
      const { result, cpuMicros } = row;
      return [
        row.target,
        `${row.bodyBytes / 1024} KB`,
        `${thousands(result.requestsPerSecond)}${bare && row !== bare ? ` (${fixed(result.requestsPerSecond / bare.result.requestsPerSecond)})` : ''}`,
        `${result.p50} / ${result.p99}`,
        `${result.non2xx + result.errors}`,
        `${row.peakRssMb}`,
        `${cpuMicros.eventLoop} + ${cpuMicros.otherThreads} = ${cpuMicros.total}`,
        bare ? fixed(cpuMicros.total / bare.cpuMicros.total) : '–',
        durable ? fixed(cpuMicros.total / durable.cpuMicros.total) : '–',
        `${cpuMicros.loader}`,
        fixed(row.loadAverage.before, 1),
      ];
    });
    parts.push(
      '### Most each target sustains (closed loop)',
      table(
        [
          'target',
          'body',
          'req/s (× bare)',
          'p50 / p99 ms',
          'failed',
          'peak RSS MB',
          'CPU µs per acknowledged request: loop + threads',
          '× bare CPU',
          '× durable CPU',
          'loader µs',
          'load',
        ],
        lines,
      ),
    );
  }

  const open = results.rows.filter((row) => row.load.kind === 'open');
  if (open.length > 0) {
    const lines = open.map((row) => {
      const result = row.result as OpenLoopResult;
      return [
        row.target,
        thousands(result.rate),
        thousands(result.requestsPerSecond),
        [result.p50, result.p90, result.p99, result.p999, result.max].map(ms).join(' / '),
        `${result.non2xx + result.errors}`,
        `${row.cpuMicros.total}${row.cpuMicros.database !== undefined ? ` + ${row.cpuMicros.database} db` : ''}`,
        `${row.peakRssMb}`,
        fixed(row.loadAverage.before, 1),
      ];
    });
    parts.push(
      '### Latency at a fixed rate (open loop, from each request’s scheduled send time)',
      table(['target', 'rate', 'achieved req/s', 'p50 / p90 / p99 / p99.9 / max ms', 'failed', 'CPU µs/req', 'peak RSS MB', 'load'], lines),
    );
  }

  const sourceRows = results.rows.filter((row) => row.section === 'sources');
  const one = find(results, 'sources', SOURCES_TARGETS.one);
  if (one && sourceRows.length > 1) {
    parts.push(
      `### Lookup cost: 1 vs ${thousands(MANY_SOURCES)} file-declared sources of one kind (1 KB, closed loop)`,
      table(
        ['target', 'req/s', 'p50 / p99 ms', 'CPU µs/req', 'peak RSS MB'],
        sourceRows.map((row) => [
          row.target.replace(`${SERVICE}, embedded, `, ''),
          thousands(row.result.requestsPerSecond),
          `${row.result.p50} / ${row.result.p99}`,
          row === one ? `${row.cpuMicros.total}` : `${row.cpuMicros.total} (${fixed(row.cpuMicros.total / one.cpuMicros.total)} ×)`,
          `${row.peakRssMb}`,
        ]),
      ),
    );
  }

  const mongoRows = results.rows.filter((row) => row.section === 'MongoDB' && row.load.kind === 'closed');
  if (mongoRows.length > 0) {
    const single = mongoRows.find((row) => row.replicas === 1);
    const lines = mongoRows.map((row) => [
      row.target,
      `${thousands(row.result.requestsPerSecond)}${single && row !== single ? ` (${fixed(row.result.requestsPerSecond / single.result.requestsPerSecond)} × 1 replica)` : ''}`,
      `${row.result.p50} / ${row.result.p99}`,
      `${row.result.non2xx + row.result.errors}`,
      `${row.cpuMicros.total}`,
      `${row.cpuMicros.database ?? '–'}`,
      topCommands(row.commandsPerIncident),
      `${row.peakRssMb}`,
      fixed(row.loadAverage.before, 1),
    ]);
    for (const loop of results.driverLoops) {
      lines.push([
        `${loop.target} (${loop.connections} concurrent)`,
        thousands(loop.incidentsPerSecond),
        `${ms(loop.p50)} / ${ms(loop.p99)}`,
        '0',
        `${loop.cpuMicros.total}`,
        `${loop.cpuMicros.database ?? '–'}`,
        topCommands(loop.commandsPerIncident),
        '–',
        fixed(loop.loadAverage.before, 1),
      ]);
    }
    parts.push(
      '### MongoDB store (FerretDB on PostgreSQL; replicas share one database; commands counted on the wire)',
      table(
        ['target', 'incidents/s', 'p50 / p99 ms', 'failed', 'CPU µs per incident', 'database CPU µs', 'MongoDB commands per incident', 'peak RSS MB', 'load'],
        lines,
      ),
    );
  }

  if (results.storms.length > 0) {
    const { storm, stormRateLimit } = settings;
    const statusList = (counts: Record<string, number>) =>
      Object.entries(counts)
        .map(([status, count]) => `${status}: ${thousands(count)}`)
        .join(', ') || 'none';
    const lines = results.storms.map(({ store, result, peakRssMb }) => [
      store,
      thousands(result.events),
      thousands(result.acknowledged),
      statusList(result.answers),
      `${thousands(result.retriedEvents)} / ${thousands(result.retries)}`,
      thousands(result.gaveUp),
      statusList(result.rejected),
      result.lost === null ? 'not verified' : `**${result.lost}**${result.unresolved > 0 ? ` (${result.unresolved} still queued)` : ''}`,
      `${result.storedTwice ?? '–'}`,
      `${ms(result.firstAnswer.p50)} / ${ms(result.firstAnswer.p99)}`,
      ms(result.toAcknowledgement.p99),
      `${peakRssMb}`,
    ]);
    parts.push(
      `### Alert storm (${results.storms[0]!.sources.join(', ')}; ${storm.steadyRate} events/s with ${storm.bursts.length} bursts at ${storm.burstFactor} ×, ` +
        `rate limit ${stormRateLimit.requestsPerSecond}/s burst ${stormRateLimit.burst} per source; senders time out after ${storm.timeoutSeconds} s and retry 429/503 after Retry-After, at most ${storm.maxAttempts} attempts)`,
      table(
        [
          'store',
          'events',
          'acknowledged',
          'answers (all attempts)',
          'retried events / retries',
          'gave up',
          'rejected',
          'lost',
          'stored twice',
          'first answer p50 / p99 ms',
          'to acknowledgement p99 ms',
          'peak RSS MB',
        ],
        lines,
      ),
    );
  }

  if (results.soak) {
    const { soak } = results;
    parts.push(
      `### Soak (${soak.seconds / 60} minutes at ${thousands(soak.rate)} req/s, embedded)`,
      table(
        ['RSS after warm-up → end (max) MB', 'growth', 'p50 / p99 / max ms', 'failed'],
        [
          [
            `${soak.rssMb.afterWarmup} → ${soak.rssMb.end} (${soak.rssMb.max})`,
            `${soak.growthPercent} %`,
            [soak.result.p50, soak.result.p99, soak.result.max].map(ms).join(' / '),
            `${soak.result.non2xx + soak.result.errors}`,
          ],
        ],
      ),
    );
  }
  for (const failure of results.failures) parts.push(`**The ${failure.part} part failed:** ${failure.error.split('\n')[0]}`);
  return parts.join('\n\n');
}
