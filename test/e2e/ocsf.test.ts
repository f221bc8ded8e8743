/**
 * Every incident is readable as an OCSF 1.7.0 Detection Finding: every vendor fixture, sent signed
 * over real HTTP to the real service, read back with `Accept: application/vnd.ocsf+json`, through
 * `tw-cli incident get -o ocsf`, and posted to a real local playbook runner with
 * TW_TRIAGE_FORMAT=ocsf, passes pydantic-ocsf's validation and carries the incident's facts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { deliver, getJson, request, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { hmacSignature } from '../helpers/sign.js';
import { ocsfProblems } from '../helpers/ocsf-validator.js';
import { twCli } from '../helpers/cli.js';

const SECRET = 'ocsf-secret';
const RUNNER_SECRET = 'runner-secret';
const OCSF = 'application/vnd.ocsf+json';
const FIXTURES = readdirSync(new URL('../fixtures/payloads/', import.meta.url)).filter((file) => file.endsWith('.json'));

const SEVERITY_IDS: Record<string, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

interface RunnerCall {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
}

let service: ServiceUnderTest;
let runner: Server;
const runnerCalls: RunnerCall[] = [];

before(async () => {
  runner = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      runnerCalls.push({ headers: incoming.headers, raw: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => runner.listen(0, '127.0.0.1', resolve));
  service = await startInProcess({
    config:
      `sources:\n  vendor:\n    secret: "${SECRET}"\n  triaged:\n    secret: "${SECRET}"\n    auto_triage: true\n    playbook: contain_host\n` +
      `  labelled:\n    secret: "${SECRET}"\n    filter:\n      labels:\n        team: '"blue"'\n        kind: incident.incident_type\n`,
    env: {
      TW_TRIAGE_URL: `http://127.0.0.1:${(runner.address() as AddressInfo).port}/triage`,
      TW_TRIAGE_SECRET: RUNNER_SECRET,
      TW_TRIAGE_FORMAT: 'ocsf',
      TW_TRIAGE_POLL_MS: '50',
    },
  });
});
after(async () => {
  await service?.stop();
  runner?.close();
});

/** The fixture's incident (a fixture sent again is its duplicate: the same incident). */
async function ingest(source: string, fixture: string): Promise<{ body: Buffer; id: string }> {
  const body = readFileSync(new URL(`../fixtures/payloads/${fixture}`, import.meta.url));
  const accepted = await deliver(service.url, source, SECRET, body);
  assert.ok(accepted.status === 201 || accepted.body.duplicate === true, JSON.stringify(accepted.body));
  return { body, id: accepted.body.incident_id };
}

const readOcsf = (id: string, accept = OCSF) => request(service.url, `/api/incidents/${id}`, { headers: { authorization: `Bearer ${TEST_TOKEN}`, accept } });

describe('GET /api/incidents/:id with Accept: application/vnd.ocsf+json', () => {
  it('answers every vendor fixture as a Detection Finding the OCSF validator accepts, carrying the incident', async () => {
    assert.ok(FIXTURES.length >= 15, `${FIXTURES.length} fixtures`);
    const findings = [];
    for (const fixture of FIXTURES) {
      const { body, id } = await ingest('vendor', fixture);
      const [ocsf, native] = [await readOcsf(id), await getJson(service.url, `/api/incidents/${id}`)];
      assert.equal(ocsf.status, 200);
      assert.match(ocsf.headers.get('content-type')!, /^application\/vnd\.ocsf\+json/);
      assert.match(ocsf.headers.get('vary')!, /accept/i);
      const finding = ocsf.body;
      const incident = native.body;
      findings.push(finding);

      assert.equal(finding.class_uid, 2004, fixture);
      assert.equal(finding.type_uid, 200401);
      assert.equal(finding.metadata.version, '1.7.0');
      assert.equal(finding.metadata.uid, incident.incident_id);
      assert.equal(finding.finding_info.uid, incident.incident_id);
      assert.equal(finding.finding_info.uid_alt, incident.incident_number);
      assert.equal(finding.finding_info.title, incident.title);
      assert.deepEqual(finding.finding_info.types, [incident.incident_type]);
      assert.equal(finding.severity_id, SEVERITY_IDS[incident.severity], fixture);
      assert.equal(finding.status_id, 1);
      assert.equal(finding.time, Date.parse(incident.occurred_at ?? incident.received_at));
      assert.equal(finding.raw_data, body.toString('utf8'), 'raw_data is the body byte for byte');
      assert.equal(finding.raw_data_size, body.length);
      assert.equal(finding.unmapped.vendor_severity, incident.vendor_severity);
      assert.equal(finding.metadata.original_event_uid, incident.external_id ?? undefined);

      const values = (kinds: string[]) => kinds.flatMap((kind) => incident.observables[kind] as string[]);
      const observed = (finding.observables ?? []).map((observable: any) => observable.value);
      assert.deepEqual(
        [...observed].sort(),
        values(['hosts', 'ips', 'users', 'emails', 'urls', 'domains', 'processes', 'files', 'md5', 'sha1', 'sha256']).sort(),
        `${fixture}: one observable per value`,
      );
      for (const observable of finding.observables ?? []) {
        const [, index, path] = /^evidences\[(\d+)\]\.(.+)$/.exec(observable.name)!;
        const pointed = path!
          .split(/\.|\[|\]\.?/)
          .filter(Boolean)
          .reduce((at: any, key: string) => at?.[key], finding.evidences[Number(index)]);
        assert.equal(pointed, observable.value, `${fixture}: ${observable.name} points at its value`);
      }

      const ids = (finding.finding_info.attacks ?? []).flatMap((attack: any) =>
        [attack.tactic?.uid, attack.sub_technique?.uid ?? attack.technique?.uid].filter(Boolean),
      );
      assert.deepEqual(new Set(ids), new Set([...incident.mitre.tactics, ...incident.mitre.techniques]), `${fixture}: attacks from the MITRE ids`);
    }
    const problems = ocsfProblems(findings);
    assert.deepEqual(
      problems.map((list, index) => [FIXTURES[index], list]).filter(([, list]) => list!.length > 0),
      [],
      'every finding validates',
    );
  });

  it('pairs a technique with the tactic when the vendor gives one tactic, and names the tactic', async () => {
    const { id } = await ingest('vendor', 'crowdstrike-epp-detection-summary.json');
    const expected = JSON.parse(readFileSync(new URL('../fixtures/payloads/expected/crowdstrike-epp-detection-summary.json', import.meta.url), 'utf8'));
    assert.equal(expected.mitre.tactics.length, 1, 'the fixture has one tactic');
    const { attacks } = (await readOcsf(id)).body.finding_info;
    assert.ok(attacks.length >= 1);
    for (const attack of attacks) {
      assert.equal(attack.tactic.uid, expected.mitre.tactics[0]);
      assert.equal(typeof attack.tactic.name, 'string');
      assert.match(attack.technique.src_url, /^https:\/\/attack\.mitre\.org\/techniques\/T\d{4}\/$/);
    }
  });

  it('answers our JSON to */*, application/json and no Accept header, and OCSF when preferred by q-value', async () => {
    const { id } = await ingest('vendor', 'generic-spec.json');
    for (const accept of ['*/*', 'application/json', 'application/json, application/vnd.ocsf+json;q=0.5']) {
      const reply = await readOcsf(id, accept);
      assert.equal(reply.body.incident_id, id, accept);
      assert.match(reply.headers.get('content-type')!, /^application\/json/);
    }
    assert.equal((await getJson(service.url, `/api/incidents/${id}`)).body.incident_id, id);
    assert.equal((await readOcsf(id, 'application/json;q=0.5, application/vnd.ocsf+json')).body.class_uid, 2004);
  });

  it('is what the validator refuses when a finding is broken (the check is not vacuous)', async () => {
    const { id } = await ingest('vendor', 'defender-spec.json');
    const finding = (await readOcsf(id)).body;
    const [valid, wrongClass, misspelled, badSeverity] = ocsfProblems([
      finding,
      { ...finding, class_uid: 2001 },
      { ...finding, finding_info: { ...finding.finding_info, titel: 'x' } },
      { ...finding, severity_id: 9 },
    ]);
    assert.deepEqual(valid, []);
    assert.match(wrongClass!.join('\n'), /class_uid must be 2004/);
    assert.match(misspelled!.join('\n'), /finding_info\.titel: not an attribute/);
    assert.match(badSeverity!.join('\n'), /severity_id/);
  });
});

describe('labels a filter added', () => {
  it("are the finding's metadata.tags, which the validator accepts", async () => {
    const { id } = await ingest('labelled', 'crowdstrike-spec.json');
    const finding = (await readOcsf(id)).body;
    const incident = (await getJson(service.url, `/api/incidents/${id}`)).body;
    assert.deepEqual(finding.metadata.tags, [
      { name: 'team', value: 'blue' },
      { name: 'kind', value: incident.incident_type },
    ]);
    assert.deepEqual(ocsfProblems([finding]), [[]]);
  });
});

describe('tw-cli incident get -o ocsf', () => {
  it('prints the Detection Finding as JSON, the same document the API answers', async () => {
    const { id } = await ingest('vendor', 'splunk-es-notable.json');
    const run = await twCli(['incident', 'get', id, '-o', 'ocsf'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout);
    assert.deepEqual(printed, (await readOcsf(id)).body);
    assert.deepEqual(ocsfProblems([printed]), [[]]);
    const refused = await twCli(['incident', 'list', '-o', 'ocsf'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
    assert.equal(refused.code, 2, 'only incident get has an OCSF representation');
    assert.match(refused.stderr, /-o ocsf is not an output of 'tw-cli incident list': table, json, yaml/);
  });
});

describe('TW_TRIAGE_FORMAT=ocsf', () => {
  it('posts the incident to the playbook runner as a signed Detection Finding, with the playbook in a header', async () => {
    const { id, body } = await ingest('triaged', 'graph-alert-v2-evidence.json');
    const call = await waitFor(() => runnerCalls.find((candidate) => candidate.headers['idempotency-key'] === id), {
      timeoutMs: 20_000,
      message: 'the triage request',
    });
    assert.match(String(call.headers['content-type']), /^application\/vnd\.ocsf\+json/);
    assert.equal(call.headers['x-triage-playbook'], 'contain_host');
    const timestamp = String(call.headers['x-webhook-timestamp']);
    assert.equal(call.headers['x-webhook-signature'], `sha256=${hmacSignature(RUNNER_SECRET, timestamp, call.raw)}`);
    const finding = JSON.parse(call.raw);
    assert.equal(finding.finding_info.uid, id);
    assert.equal(finding.raw_data, body.toString('utf8'));
    assert.equal(finding.unmapped.triage.playbook, 'contain_host');
    assert.deepEqual(ocsfProblems([finding]), [[]]);
  });
});
