/**
 * The chart's monitoring against a real Prometheus (Debian's `prometheus`, started here): it scrapes
 * the running service with the ServiceMonitor's path, interval and timeout, the spec's
 * `rate(webhook_received_total[5m])` and `rate(webhook_errors_total[5m])` return series, promtool
 * accepts our exposition and the PrometheusRule (with a unit test per alert), and every PromQL
 * expression of the Grafana dashboard parses.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { parseAllDocuments, stringify } from 'yaml';
import { helmBin, needs } from '../helpers/servers.js';
import { startService, type RunningService } from '../helpers/service.js';
import { signedHeaders } from '../helpers/sign.js';
import { freePort } from '../infra/process.js';
import { helmTemplate, repoRoot } from '../deploy/chart.js';

await needs('helm', 'monitoring-crds');

const run = promisify(execFile);
const NAMESPACE = 'tw-webhooks';
const JOB = 'tw-webhooks';
const ALERT_TESTS = join(repoRoot, 'test/fixtures/alerts/tw-webhooks.rules.test.yaml');
// The chart's default is 30s; a short interval (set through the chart's own value) keeps the test quick.
const SCRAPE_INTERVAL = '2s';

type Manifest = { kind: string; spec: any; data?: Record<string, string> };

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('monitoring with a real Prometheus', () => {
  let workDir: string;
  let service: RunningService;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let rendered: Manifest[];

  const query = async (promql: string) => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  };

  before(async () => {
    for (const tool of ['prometheus', 'promtool']) {
      await run(tool, ['--version']).catch(() => {
        throw new Error(`${tool} is not installed: apt-get install -y prometheus (Debian's package; .ci/run installs it)`);
      });
    }
    workDir = mkdtempSync(join(tmpdir(), 'tw-prometheus-'));
    rendered = await helmTemplate(
      helmBin(),
      [
        '--api-versions',
        'monitoring.coreos.com/v1',
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set',
        `metrics.serviceMonitor.interval=${SCRAPE_INTERVAL}`,
        '--set',
        'metrics.serviceMonitor.scrapeTimeout=1s',
        '--set',
        'metrics.prometheusRule.enabled=true',
        '--set',
        'metrics.grafanaDashboard.enabled=true',
      ],
      'tw-webhooks',
      NAMESPACE,
    ).then((text) => parseAllDocuments(text).map((doc) => doc.toJSON() as Manifest));
    writeFileSync(join(workDir, 'rules.yaml'), stringify({ groups: rendered.find((m) => m.kind === 'PrometheusRule')!.spec.groups }));

    service = await startService({
      config: 'sources:\n  email-gateway:\n    secret: "your-secret"\n  edr:\n    secret: "edr-secret"\n',
      // A badly signed delivery every round until Prometheus has scraped twice: past 10 the address
      // would be refused unread (429), and this test counts the 401s.
      env: { TW_ADDRESS_FAILURES_BURST: '1000' },
    });
    const endpoint = rendered.find((m) => m.kind === 'ServiceMonitor')!.spec.endpoints[0] as {
      path: string;
      interval: string;
      scrapeTimeout: string;
      scheme: string;
    };
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    // What the operator generates from the ServiceMonitor, reduced to one static target: the
    // job is the Service name and the namespace label the release namespace.
    writeFileSync(
      join(workDir, 'prometheus.yml'),
      stringify({
        global: { evaluation_interval: '5s' },
        rule_files: [join(workDir, 'rules.yaml')],
        scrape_configs: [
          {
            job_name: JOB,
            metrics_path: endpoint.path,
            scheme: endpoint.scheme,
            scrape_interval: endpoint.interval,
            scrape_timeout: endpoint.scrapeTimeout,
            static_configs: [{ targets: [new URL(service.url).host], labels: { namespace: NAMESPACE } }],
          },
        ],
      }),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(workDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    prometheus.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    await until(`Prometheus ready (${stderr})`, async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((done) => prometheus!.once('exit', done));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await service?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("returns series for the spec's rate(webhook_received_total[5m]) and rate(webhook_errors_total[5m]) after traffic", async () => {
    const deadline = Date.now() + 90_000;
    let received: Awaited<ReturnType<typeof query>> | undefined;
    let errors: Awaited<ReturnType<typeof query>> | undefined;
    // Traffic keeps flowing until two scrapes have seen it (rate needs two samples).
    for (let round = 0; Date.now() < deadline; round++) {
      const body = JSON.stringify({ event_type: 'security_alert', data: { alert_id: `a-${round}`, severity: 'high' } });
      assert.equal(
        (await fetch(`${service.url}/api/webhooks/email-gateway`, { method: 'POST', body, headers: signedHeaders('your-secret', body) })).status,
        201,
      );
      assert.equal((await fetch(`${service.url}/api/webhooks/edr`, { method: 'POST', body, headers: signedHeaders('wrong-secret', body) })).status, 401);
      received = await query('rate(webhook_received_total[5m])');
      errors = await query('rate(webhook_errors_total[5m])');
      const positive = (result: typeof received) => result?.data?.result.some((series) => Number(series.value[1]) > 0);
      if (positive(received) && positive(errors)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(received?.status, 'success');
    const receivedBy = new Map(received.data!.result.map((series) => [series.metric.source, series]));
    assert.ok(Number(receivedBy.get('email-gateway')?.value[1]) > 0, JSON.stringify(received));
    assert.equal(receivedBy.get('email-gateway')?.metric.job, JOB);
    assert.equal(receivedBy.get('email-gateway')?.metric.namespace, NAMESPACE);
    const invalidSignature = errors!.data!.result.find((series) => series.metric.source === 'edr' && series.metric.code === 'invalid_signature');
    assert.ok(Number(invalidSignature?.value[1]) > 0, JSON.stringify(errors));
    // The chart's own selector finds the series too.
    const selected = await query(`webhook_last_received_timestamp_seconds{job="${JOB}",namespace="${NAMESPACE}",source="email-gateway"}`);
    assert.equal(selected.data?.result.length, 1);
  });

  it('has an exposition that `promtool check metrics` accepts', async () => {
    const exposition = await (await fetch(`${service.url}/metrics`)).text();
    const checked = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    checked.stdout.on('data', (chunk) => (output += String(chunk)));
    checked.stderr.on('data', (chunk) => (output += String(chunk)));
    checked.stdin.end(exposition);
    const code = await new Promise((done) => checked.once('exit', done));
    assert.equal(code, 0, output);
    assert.equal(output.trim(), '', 'no lint findings');
  });

  it('has alert rules that `promtool check rules` accepts and Prometheus loads', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', join(workDir, 'rules.yaml')]);
    assert.match(stdout, /SUCCESS: 13 rules found/);
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((group) => group.rules);
    assert.equal(loaded.length, 13);
  });

  it('passes `promtool test rules`: a unit test per alert', async () => {
    const testDir = join(workDir, 'alert-tests');
    mkdirSync(testDir);
    copyFileSync(join(workDir, 'rules.yaml'), join(testDir, 'rules.yaml'));
    copyFileSync(ALERT_TESTS, join(testDir, 'tests.yaml'));
    const { stdout } = await run('promtool', ['test', 'rules', join(testDir, 'tests.yaml')]).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    assert.match(stdout, /SUCCESS/);
    const alertNames = rendered
      .find((m) => m.kind === 'PrometheusRule')!
      .spec.groups.flatMap((group: { rules: { alert: string }[] }) => group.rules.map((rule) => rule.alert));
    const tested = new Set([...readFileSync(ALERT_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((match) => match[1]));
    assert.deepEqual(
      alertNames.filter((name: string) => !tested.has(name)),
      [],
      'every alert has a unit test',
    );
  });

  it('ships a Grafana dashboard that loads and whose every PromQL expression parses in Prometheus', async () => {
    const configMap = rendered.find((m) => m.kind === 'ConfigMap' && m.data?.['tw-webhooks.json'])!;
    const dashboard = JSON.parse(configMap.data!['tw-webhooks.json']!) as Record<string, any>;
    const validate = new Ajv({ allErrors: true }).compile(DASHBOARD_SCHEMA);
    assert.ok(validate(dashboard), JSON.stringify(validate.errors));
    const ids = (dashboard.panels as { id: number }[]).map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');

    // Grafana substitutes its variables before querying; do the same with values that match everything.
    const asPromql = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replace(/\$(namespace|job|source)\b/g, '.*');
    const expressions = [
      ...(dashboard.panels as { targets?: { expr: string }[] }[]).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
      // label_values(<selector>, label) is Grafana's; its selector is PromQL.
      ...(dashboard.templating.list as { query?: { query?: string } }[])
        .map((variable) => /^label_values\((.*),\s*\w+\)$/.exec(variable.query?.query ?? '')?.[1])
        .filter((selector): selector is string => selector !== undefined),
    ];
    assert.ok(expressions.length >= 20, `${expressions.length} expressions`);
    for (const expr of expressions) {
      const result = await query(asPromql(expr));
      assert.equal(result.status, 'success', `${expr}: ${result.error}`);
    }
    for (const needed of [
      'webhook_received_total',
      'webhook_errors_total',
      'webhook_request_duration_seconds_bucket',
      'webhook_duplicates_total',
      'webhook_queue_depth',
      'triage_outbox_pending',
      'tw_controller_leader',
      'tw_informer_synced',
      'tw_controller_reconcile_errors_total',
    ]) {
      assert.ok(
        expressions.some((expr) => expr.includes(needed)),
        `the dashboard shows ${needed}`,
      );
    }
  });
});

/** The parts of Grafana's dashboard model the sidecar import and Grafana rely on. */
const DASHBOARD_SCHEMA = {
  type: 'object',
  required: ['title', 'uid', 'schemaVersion', 'panels', 'templating', 'time'],
  properties: {
    title: { type: 'string', minLength: 1 },
    uid: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,40}$' },
    schemaVersion: { type: 'integer', minimum: 30 },
    time: { type: 'object', required: ['from', 'to'] },
    templating: {
      type: 'object',
      required: ['list'],
      properties: { list: { type: 'array', items: { type: 'object', required: ['name', 'type'] } } },
    },
    panels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'type', 'title', 'gridPos'],
        properties: {
          id: { type: 'integer' },
          type: { enum: ['row', 'timeseries', 'stat', 'gauge', 'table', 'bargauge'] },
          gridPos: {
            type: 'object',
            required: ['h', 'w', 'x', 'y'],
            properties: { w: { type: 'integer', minimum: 1, maximum: 24 }, x: { type: 'integer', minimum: 0, maximum: 23 } },
          },
          targets: { type: 'array', items: { type: 'object', required: ['refId', 'expr'], properties: { expr: { type: 'string', minLength: 1 } } } },
        },
      },
    },
  },
} as const;
