/**
 * Each vendor shape, sent signed over real HTTP, becomes an incident with the right format,
 * severity, title and observables, readable through the read API with the raw body byte-exact.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { deliver, getJson } from '../helpers/api-client.js';

const SECRET = 'vendor-secret';
let service: ServiceUnderTest;

before(async () => {
  service = await startInProcess({
    config: `sources:
  any:
    secret: "${SECRET}"
  falcon-remapped:
    secret: "${SECRET}"
    format: crowdstrike
    severity_mapping:
      critical: high
`,
  });
});
after(async () => {
  await service?.stop();
});

async function ingestFixture(source: string, fixture: string): Promise<any> {
  const body = readFileSync(new URL(`../fixtures/payloads/${fixture}`, import.meta.url));
  const accepted = await deliver(service.url, source, SECRET, body);
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  const { incident_number } = accepted.body as { incident_number: string };
  const incident = (await getJson(service.url, `/api/incidents/${incident_number}`)).body;
  assert.equal(incident.raw, body.toString('utf8'), 'raw body kept byte-exact');
  assert.equal(incident.incident_number, incident_number);
  return incident;
}

interface Expectation {
  format: string;
  title: string;
  severity: string;
  vendor_severity: string | null;
  incident_type: string;
  observables: Partial<Record<'hosts' | 'users' | 'emails' | 'ips' | 'hashes' | 'urls', string[]>>;
}

const CASES: Record<string, Expectation> = {
  'generic-spec.json': {
    format: 'generic',
    title: 'security_alert',
    severity: 'high',
    vendor_severity: 'high',
    incident_type: 'other',
    observables: { ips: ['203.0.113.45'] },
  },
  'defender-spec.json': {
    format: 'defender',
    title: 'PhishingEmail: Urgent Action Required',
    severity: 'high',
    vendor_severity: 'high',
    incident_type: 'phishing',
    observables: { emails: ['phisher@malicious.com', 'user@company.com'] },
  },
  'crowdstrike-spec.json': {
    format: 'crowdstrike',
    title: 'Malicious File Detected',
    severity: 'high',
    vendor_severity: '4',
    incident_type: 'malware',
    observables: { hosts: ['WORKSTATION-01'] },
  },
  'splunk-spec.json': {
    format: 'splunk',
    title: 'Failed Login Alert',
    severity: 'medium',
    vendor_severity: null,
    incident_type: 'authentication',
    observables: { hosts: ['server-01'] },
  },
  'crowdstrike-detection-summary.json': {
    format: 'crowdstrike',
    title: 'Malicious Document',
    severity: 'critical',
    vendor_severity: 'Critical',
    incident_type: 'malware',
    observables: { hosts: ['FINANCE-WS-042'], ips: ['10.20.30.42'] },
  },
  'crowdstrike-epp-detection-summary.json': {
    format: 'crowdstrike',
    title: 'CredentialDumping',
    severity: 'high',
    vendor_severity: 'High',
    incident_type: 'authentication',
    observables: { hosts: ['srv-db-07'], users: ['svc_backup'] },
  },
  'splunk-alert-action.json': {
    format: 'splunk',
    title: 'Failed Login Alert',
    severity: 'medium',
    vendor_severity: null,
    incident_type: 'authentication',
    observables: { users: ['jdoe'], ips: ['10.0.0.5'] },
  },
  'graph-alert-v2.json': {
    format: 'defender',
    title: 'Email messages containing malicious URL removed after delivery',
    severity: 'high',
    vendor_severity: 'high',
    incident_type: 'phishing',
    observables: { hosts: ['laptop-jdoe.company.com'], urls: ['https://login-company.example.net/verify?u=user'] },
  },
  'o365-management-alert.json': {
    format: 'defender',
    title: 'Email messages containing malicious URL removed after delivery',
    severity: 'info',
    vendor_severity: 'Informational',
    incident_type: 'phishing',
    observables: { users: ['jdoe@contoso.com'], ips: ['203.0.113.77'] },
  },
};

describe('vendor shapes over HTTP', () => {
  for (const [fixture, expected] of Object.entries(CASES)) {
    it(`${fixture} → ${expected.format}, ${expected.severity}: ${expected.title}`, async () => {
      const incident = await ingestFixture('any', fixture);
      const { observables, ...fields } = expected;
      for (const [field, value] of Object.entries(fields)) assert.equal(incident[field], value, field);
      for (const [kind, values] of Object.entries(observables)) {
        for (const value of values) assert.ok(incident.observables[kind].includes(value), `${kind} has ${value}`);
      }
      assert.match(incident.received_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });
  }

  it("a source's severity_mapping wins over the built-in table", async () => {
    const incident = await ingestFixture('falcon-remapped', 'crowdstrike-detection-summary.json');
    assert.equal(incident.vendor_severity, 'Critical');
    assert.equal(incident.severity, 'high');
  });

  it('lists incidents newest first, filtered by severity', async () => {
    const page = (await getJson(service.url, '/api/incidents?severity=critical&limit=10')).body;
    assert.ok(page.items.length >= 1);
    for (const item of page.items) assert.equal(item.severity, 'critical');
  });
});
