/**
 * Incidents stored before `mitre`, the domain/process/file/per-algorithm observable lists and the
 * normalizer version existed read back from either store in today's shape: the new fields present,
 * the stored hashes sorted into the per-algorithm lists, version 0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OBSERVABLE_KINDS } from '../../../src/incidents/model.js';
import { parseIncident } from '../../../src/store/embedded/encoded-insert.js';
import { fromDocument, type IncidentDocument } from '../../../src/store/mongo/incident-document.js';

const firstVersion = {
  id: '0b7f3c52-9d0e-4f4a-8a59-6f1de2f7c001',
  number: 'INC-2026-0001',
  source: 'edr',
  dedupeKey: 'ext:crowdstrike:ldt:1',
  receivedAt: '2026-03-01T10:00:00.000Z',
  format: 'crowdstrike',
  eventType: 'DetectionSummaryEvent',
  title: 'Malicious Document',
  severity: 'critical',
  vendorSeverity: 'Critical',
  incidentType: 'malware',
  occurredAt: '2026-03-01T09:59:00.000Z',
  externalId: 'ldt:1',
  observables: { hosts: ['ws-1'], users: [], emails: [], ips: ['192.0.2.1'], hashes: ['d41d8cd98f00b204e9800998ecf8427e', 'e'.repeat(64)], urls: [] },
  status: 'new',
  triage: { state: 'none', playbook: null, attempts: 0, lastError: null, nextAttemptAt: null, dispatchedAt: null },
  raw: '{"a":1}',
};

describe('incidents of the first stored shape', () => {
  for (const [store, read] of [
    ['embedded', () => parseIncident(JSON.stringify(firstVersion))],
    ['mongo', () => fromDocument({ _id: '["edr","ext:crowdstrike:ldt:1"]', ...structuredClone(firstVersion) } as unknown as IncidentDocument)],
  ] as const) {
    it(`read from the ${store} store in today's shape`, () => {
      const incident = read();
      assert.deepEqual(incident.mitre, { tactics: [], techniques: [] });
      assert.deepEqual(Object.keys(incident.observables).sort(), [...OBSERVABLE_KINDS].sort());
      assert.deepEqual(incident.observables.hosts, ['ws-1']);
      assert.deepEqual(incident.observables.hashes, ['d41d8cd98f00b204e9800998ecf8427e', 'e'.repeat(64)]);
      assert.deepEqual(incident.observables.md5, ['d41d8cd98f00b204e9800998ecf8427e']);
      assert.deepEqual(incident.observables.sha1, []);
      assert.deepEqual(incident.observables.sha256, ['e'.repeat(64)]);
      assert.deepEqual(incident.observables.domains, []);
      assert.equal(incident.title, 'Malicious Document');
      assert.equal(incident.normalizerVersion, 0, 'built before normalizer versions were recorded');
    });
  }
});
