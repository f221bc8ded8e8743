/**
 * Every documented vendor event family, sent signed over real HTTP to the real service, becomes
 * the incident its fixture expects (test/fixtures/payloads/expected/): severity, title, type, observables,
 * MITRE ids — and none of the API's own links or private-use metadata as observables. Read back
 * through the read API by id, with the raw body byte-exact.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { IncidentDraft } from '../../src/incidents/model.js';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { signedHeaders } from '../helpers/sign.js';
import { TEST_TOKEN } from '../helpers/api-client.js';

const SECRET = 'family-secret';
let service: ServiceUnderTest;

before(async () => {
  service = await startInProcess({ config: `sources:\n  vendor:\n    secret: "${SECRET}"\n` });
});
after(async () => {
  await service?.stop();
});

interface Family {
  name: string;
  fixture: string;
  /** Text no observable may contain: links to the vendor's API or console, ids, internal fields. */
  never: string[];
}

const FAMILIES: Family[] = [
  {
    name: 'Microsoft Graph legacy alert (v1 securityAlert, Defender for Endpoint)',
    fixture: 'graph-alert-legacy.json',
    never: ['$metadata', 'securitycenter.microsoft.com', 'aaaabbbbccccdddd', '0f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b', 'S-1-5-21'],
  },
  {
    name: 'Microsoft Graph alerts_v2 with every evidence type',
    fixture: 'graph-alert-v2-evidence.json',
    never: [
      '$metadata',
      'security.microsoft.com',
      'learn.microsoft.com',
      'cmd.exe',
      '0f1e2d3c4b5a',
      '192.0.2.250',
      'future.example',
      'Office 365',
      'Mail Sync Helper',
      'Domain Admins',
      '8d6e5c2b7a9f',
      '0123456789abcdef@mail.sender.example',
    ],
  },
  {
    name: 'Microsoft Graph alerts_v2 from Defender for Office 365',
    fixture: 'graph-alert-v2.json',
    never: ['security.microsoft.com', 'PH0PR10MB5706', '73e7e2de709dff64'],
  },
  { name: 'Office 365 Management Activity alert', fixture: 'o365-management-alert.json', never: ['security.microsoft.com/viewalerts'] },
  { name: "Defender for Office 365 event (the spec's shape)", fixture: 'defender-spec.json', never: [] },
  {
    name: 'Falcon DetectionSummaryEvent (legacy)',
    fixture: 'crowdstrike-detection-summary.json',
    never: ['falcon.crowdstrike.com', '4f2c1d0e9b8a47c6a5d4e3f2a1b0c9d8', '0000000000000000000000000000000000000000', '00-50-56'],
  },
  {
    name: 'Falcon EppDetectionSummaryEvent',
    fixture: 'crowdstrike-epp-detection-summary.json',
    never: ['falcon.crowdstrike.com', '4f2c1d0e9b8a47c6a5d4e3f2a1b0c9d8'],
  },
  {
    name: 'Falcon IdpDetectionSummaryEvent (identity protection)',
    fixture: 'crowdstrike-idp-detection-summary.json',
    never: ['falcon.crowdstrike.com', '7c6b5a4938271605f4e3d2c1b0a99887', '0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'S-1-5-21', 'cifs/'],
  },
  {
    name: 'Falcon MobileDetectionSummaryEvent',
    fixture: 'crowdstrike-mobile-detection-summary.json',
    never: ['falcon.crowdstrike.com', '5e4f3a2b1c0d49e8f7a6b5c4d3e2f1a0', 'FastLoan', '2.4.1'],
  },
  { name: "Falcon detection (the spec's shape)", fixture: 'crowdstrike-spec.json', never: [] },
  { name: 'Splunk webhook alert action', fixture: 'splunk-alert-action.json', never: ['@go?sid=', 'splunk:8000'] },
  {
    name: "Splunk webhook alert action with a null search_name (Splunk's documented example)",
    fixture: 'splunk-alert-action-null-search-name.json',
    never: ['web.example.local', 'mongod'],
  },
  {
    name: 'Splunk Enterprise Security notable',
    fixture: 'splunk-es-notable.json',
    never: ['@go?sid=', 'es.example.local', 'es-idx-01', 'notable~12', 'A1B2C3D4-E5F6'],
  },
  { name: "Splunk alert (the spec's shape)", fixture: 'splunk-spec.json', never: [] },
  { name: "generic event (the spec's shape)", fixture: 'generic-spec.json', never: [] },
];

async function ingest(fixture: string): Promise<{ body: Buffer; incident: Record<string, any> }> {
  const body = readFileSync(new URL(`../fixtures/payloads/${fixture}`, import.meta.url));
  const accepted = await fetch(`${service.url}/api/webhooks/vendor`, { method: 'POST', body, headers: signedHeaders(SECRET, body) });
  assert.equal(accepted.status, 201, await accepted.clone().text());
  const { incident_id } = (await accepted.json()) as { incident_id: string };
  const read = await fetch(`${service.url}/api/incidents/${incident_id}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  assert.equal(read.status, 200);
  return { body, incident: (await read.json()) as Record<string, any> };
}

describe('each vendor event family over HTTP', () => {
  for (const family of FAMILIES) {
    it(family.name, async () => {
      const expected = JSON.parse(readFileSync(new URL(`../fixtures/payloads/expected/${family.fixture}`, import.meta.url), 'utf8')) as IncidentDraft;
      const { body, incident } = await ingest(family.fixture);
      assert.equal(incident.raw, body.toString('utf8'), 'raw body kept byte-exact');
      assert.equal(Buffer.compare(Buffer.from(incident.raw, 'utf8'), body), 0);
      assert.equal(incident.source, 'vendor');
      assert.equal(incident.format, expected.format);
      assert.equal(incident.event_type, expected.eventType);
      assert.equal(incident.title, expected.title);
      assert.equal(incident.severity, expected.severity);
      assert.equal(incident.vendor_severity, expected.vendorSeverity);
      assert.equal(incident.incident_type, expected.incidentType);
      assert.equal(incident.occurred_at, expected.occurredAt);
      assert.equal(incident.external_id, expected.externalId);
      assert.deepEqual(incident.observables, expected.observables);
      assert.deepEqual(incident.mitre, expected.mitre);
      const values = Object.values(incident.observables).flat();
      for (const needle of family.never) {
        assert.ok(!values.some((value) => value.includes(needle)), `no observable contains ${needle}`);
      }
    });
  }

  it('a family with a missing field still becomes an incident with what is there', async () => {
    const payload = JSON.parse(readFileSync(new URL('../fixtures/payloads/crowdstrike-idp-detection-summary.json', import.meta.url), 'utf8'));
    // Another detection (the same DetectId would be answered as a duplicate of the first).
    payload.event.DetectId = 'ldt:9a8b7c6d5e4f40312a1b0c9d8e7f6a5b:3487653299';
    delete payload.event.SourceEndpointHostName;
    delete payload.event.TechniqueId;
    payload.event.TargetAccountName = { unexpected: ['shape'] };
    const body = Buffer.from(JSON.stringify(payload));
    const accepted = await fetch(`${service.url}/api/webhooks/vendor`, { method: 'POST', body, headers: signedHeaders(SECRET, body) });
    assert.equal(accepted.status, 201, await accepted.clone().text());
    const { incident_id } = (await accepted.json()) as { incident_id: string };
    const incident = (await (await fetch(`${service.url}/api/incidents/${incident_id}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).json()) as any;
    assert.equal(incident.format, 'crowdstrike');
    assert.deepEqual(incident.observables.hosts, ['dc-01.corp.example.com']);
    assert.deepEqual(incident.observables.users, ['svc-sql', 'svc-sql@corp.example.com', 'adm-carol@corp.example.com']);
    assert.deepEqual(incident.mitre, { tactics: ['TA0006'], techniques: [] });
    assert.equal(incident.raw, body.toString('utf8'));
  });
});
