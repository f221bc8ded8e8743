import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Format, IncidentDraft, Observables } from '../../src/incidents/model.js';
import { normalize } from '../../src/normalize/index.js';
import { parsePayload } from '../../src/normalize/parse.js';
import type { Source } from '../../src/sources/source.js';
import { testSource } from '../helpers/source.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/payloads/${name}`, import.meta.url));

function normalizeFixture(name: string, source: Partial<Source> = {}): IncidentDraft {
  const parsed = parsePayload(fixture(name));
  assert.ok(parsed.ok, `parse ${name}`);
  const draft = normalize(parsed.value.payload, testSource({ name: 'test-source', ...source }));
  assert.ok(draft.ok, draft.ok ? '' : draft.error);
  return draft.value;
}

const noObservables: Observables = { hosts: [], users: [], emails: [], ips: [], hashes: [], urls: [] };

describe('normalizes each vendor shape', () => {
  const cases: Array<[string, IncidentDraft]> = [
    ['generic-spec.json', {
      format: 'generic', eventType: 'security_alert', title: 'security_alert', severity: 'high', vendorSeverity: 'high',
      incidentType: 'other', occurredAt: '2024-01-15T10:00:00.000Z', externalId: 'alert-123',
      observables: { ...noObservables, emails: ['phisher@malicious.com', 'user@company.com'], ips: ['203.0.113.45'],
        urls: ['https://malicious.example/login?session=42'] },
    }],
    ['defender-spec.json', {
      format: 'defender', eventType: 'PhishingEmail', title: 'PhishingEmail: Urgent Action Required', severity: 'high',
      vendorSeverity: 'high', incidentType: 'phishing', occurredAt: '2024-01-15T10:00:00.000Z', externalId: 'AAMkAGI2...',
      observables: { ...noObservables, emails: ['phisher@malicious.com', 'user@company.com'] },
    }],
    ['crowdstrike-spec.json', {
      format: 'crowdstrike', eventType: 'DetectionSummaryEvent', title: 'Malicious File Detected', severity: 'high',
      vendorSeverity: '4', incidentType: 'malware', occurredAt: '2024-01-15T12:00:00.000Z', externalId: 'ldt:abc123',
      observables: { ...noObservables, hosts: ['WORKSTATION-01'] },
    }],
    ['splunk-spec.json', {
      format: 'splunk', eventType: 'alert', title: 'Failed Login Alert', severity: 'medium', vendorSeverity: null,
      incidentType: 'authentication', occurredAt: '2024-01-15T12:00:00.000Z', externalId: null,
      observables: { ...noObservables, hosts: ['server-01'] },
    }],
    ['crowdstrike-detection-summary.json', {
      format: 'crowdstrike', eventType: 'DetectionSummaryEvent', title: 'Malicious Document', severity: 'critical',
      vendorSeverity: 'Critical', incidentType: 'malware', occurredAt: '2024-01-15T12:00:00.123Z',
      externalId: 'ldt:4f2c1d0e9b8a47c6a5d4e3f2a1b0c9d8:38655257584',
      // The all-zero SHA1 is Falcon's filler, the sensor id is not a hash, the console link is no IOC.
      observables: { ...noObservables, hosts: ['FINANCE-WS-042'], users: ['CORP\\jdoe'], ips: ['10.20.30.42'],
        hashes: ['8f14e45fceea167a5a36dedd4bea2543b5c6f1f2a3b4c5d6e7f8091a2b3c4d5e', '0cc175b9c0f1b6a831c399e269772661'] },
    }],
    ['crowdstrike-epp-detection-summary.json', {
      format: 'crowdstrike', eventType: 'EppDetectionSummaryEvent', title: 'CredentialDumping', severity: 'high',
      vendorSeverity: 'High', incidentType: 'authentication', occurredAt: '2024-05-31T16:08:37.000Z',
      externalId: '2b5f8a1c9d3e4f60a7b8c9d0e1f2a3b4:ind:4f2c1d0e9b8a47c6a5d4e3f2a1b0c9d8:8590000001-10304-27123',
      observables: { ...noObservables, hosts: ['srv-db-07'], users: ['svc_backup'], ips: ['10.1.4.7'],
        hashes: ['05732e84de58a3cc142535431b3aa04efbe034cc96e837f93c360a6387d8faad', '4f6f2a1e7b9cb3d3d94a4e4c6a1c5b6d'] },
    }],
    ['splunk-alert-action.json', {
      format: 'splunk', eventType: 'alert', title: 'Failed Login Alert', severity: 'medium', vendorSeverity: null,
      incidentType: 'authentication', occurredAt: '2024-01-15T11:59:00.000Z',
      externalId: 'scheduler__admin__search__RMD5d3b1f2c4e6a8b0c2_at_1705320000_1234',
      observables: { ...noObservables, hosts: ['server-01'], users: ['jdoe'], ips: ['10.0.0.5'] },
    }],
    ['graph-alert-v2.json', {
      format: 'defender', eventType: 'alert', title: 'Email messages containing malicious URL removed after delivery',
      severity: 'high', vendorSeverity: 'high', incidentType: 'phishing', occurredAt: '2024-01-15T09:58:40.886Z',
      externalId: 'fa8f1f3cc0a3c5a5e1c2f5e6a7b8c9d0e1f2a3b4c5_-1234567890',
      observables: {
        hosts: ['laptop-jdoe.company.com'],
        users: ['jane.doe', 'jane.doe@company.com'],
        emails: ['user@company.com', 'phisher@malicious.com'],
        ips: ['198.51.100.23', '10.10.1.25', 'fe80::1c2d:3e4f:5a6b:7c8d'],
        hashes: ['5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
        urls: ['https://login-company.example.net/verify?u=user'],
      },
    }],
    ['o365-management-alert.json', {
      format: 'defender', eventType: 'AlertTriggered', title: 'Email messages containing malicious URL removed after delivery',
      severity: 'info', vendorSeverity: 'Informational', incidentType: 'phishing',
      // CreationTime has no zone: the Management Activity API means UTC.
      occurredAt: '2024-01-15T10:00:00.000Z', externalId: 'e5f0a7b2-6c1d-4e3f-9a8b-7c6d5e4f3a2b',
      observables: { ...noObservables, users: ['jdoe@contoso.com'], emails: ['jdoe@contoso.com', 'phisher@malicious.com'],
        ips: ['203.0.113.77'] },
    }],
  ];
  for (const [name, expected] of cases) {
    it(`${name} → ${expected.format}: ${expected.title}`, () => {
      assert.deepEqual(normalizeFixture(name), expected);
    });
  }
});

describe('a pinned format', () => {
  const pinned = (format: Format, payload: unknown) => normalize(payload, testSource({ name: 's', format }));

  it('uses the pinned module even when another shape would be detected', () => {
    const parsed = parsePayload(fixture('splunk-spec.json'));
    assert.ok(parsed.ok);
    const draft = pinned('generic', parsed.value.payload);
    assert.ok(draft.ok);
    assert.equal(draft.value.format, 'generic');
  });

  it('names the missing field when the payload lacks what the format needs', () => {
    assert.deepEqual(pinned('crowdstrike', { metadata: { eventType: 'DetectionSummaryEvent' }, event: { Severity: 4 } }), {
      ok: false,
      error: 'crowdstrike payload lacks event.DetectName/Name',
    });
    assert.deepEqual(pinned('crowdstrike', { event_type: 'x' }), { ok: false, error: 'crowdstrike payload lacks the event object' });
    assert.deepEqual(pinned('splunk', { result: {} }), { ok: false, error: 'splunk payload lacks search_name' });
    assert.deepEqual(pinned('defender', { severity: 'high' }), {
      ok: false,
      error: 'defender payload lacks title (Graph alert), Name (Office 365 alert) or eventType (Defender event)',
    });
  });
});

describe('structural detection', () => {
  const detected = (payload: Record<string, unknown>) => {
    const draft = normalize(payload, testSource({ name: 'edr' }));
    assert.ok(draft.ok, draft.ok ? '' : draft.error);
    return draft.value;
  };

  it('sends Falcon stream events without a detection to generic instead of failing', () => {
    const draft = detected({ metadata: { eventType: 'AuthActivityAuditEvent', eventCreationTime: 1705320000000 }, event: { UserId: 'a@b.c' } });
    assert.equal(draft.format, 'generic');
    assert.equal(draft.title, 'Webhook event from edr');
  });

  it('never fails for an object of unknown shape, titling it by its event type or its source', () => {
    assert.equal(detected({}).title, 'Webhook event from edr');
    assert.equal(detected({}).severity, 'medium');
    assert.equal(detected({ event_type: 'test', data: {} }).title, 'test');
    assert.equal(detected({ eventType: 'Thing' }).format, 'generic');
  });

  it('reads epoch timestamps in generic payloads as seconds or milliseconds', () => {
    assert.equal(detected({ timestamp: 1705320000 }).occurredAt, '2024-01-15T12:00:00.000Z');
    assert.equal(detected({ timestamp: 1705320000000 }).occurredAt, '2024-01-15T12:00:00.000Z');
    assert.equal(detected({ timestamp: 'yesterday' }).occurredAt, null);
  });
});

describe("a source's severity_mapping", () => {
  it('is consulted before the built-in tables, by the lower-cased vendor value', () => {
    const draft = normalizeFixture('graph-alert-v2.json', { severityMapping: { high: 'critical' } });
    assert.equal(draft.severity, 'critical');
    assert.equal(draft.vendorSeverity, 'high');
    assert.equal(normalizeFixture('crowdstrike-spec.json', { severityMapping: { '4': 'medium' } }).severity, 'medium');
    assert.equal(normalizeFixture('o365-management-alert.json', { severityMapping: { informational: 'low' } }).severity, 'low');
  });

  it('leaves values it does not name to the built-in tables', () => {
    assert.equal(normalizeFixture('crowdstrike-detection-summary.json', { severityMapping: { low: 'info' } }).severity, 'critical');
  });

  it('maps Falcon numeric severities on the scale of the event type when SeverityName is absent', () => {
    const falcon = (eventType: string, Severity: number) => {
      const draft = normalize({ metadata: { eventType }, event: { DetectName: 'x', Severity } }, testSource({ name: 'edr' }));
      assert.ok(draft.ok);
      return draft.value.severity;
    };
    assert.equal(falcon('DetectionSummaryEvent', 2), 'low');
    assert.equal(falcon('DetectionSummaryEvent', 5), 'critical');
    assert.equal(falcon('EppDetectionSummaryEvent', 95), 'critical');
    assert.equal(falcon('EppDetectionSummaryEvent', 4), 'info');
  });

  it('maps Splunk result severity and Splunk ES urgency', () => {
    const withRow = (row: Record<string, string>) => {
      const draft = normalize({ search_name: 'X', sid: '1', result: row }, testSource({ name: 'siem' }));
      assert.ok(draft.ok);
      return [draft.value.severity, draft.value.vendorSeverity];
    };
    assert.deepEqual(withRow({ urgency: 'critical' }), ['critical', 'critical']);
    assert.deepEqual(withRow({ severity: '5' }), ['high', '5']);
    assert.deepEqual(withRow({}), ['medium', null]);
  });
});
