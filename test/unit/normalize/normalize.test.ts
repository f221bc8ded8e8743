import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Format, IncidentDraft } from '../../../src/incidents/model.js';
import { normalize } from '../../../src/normalize/index.js';
import { parsePayload } from '../../../src/normalize/parse.js';
import { dedupeKey } from '../../../src/incidents/dedupe.js';
import type { Source } from '../../../src/sources/source.js';
import { testSource } from '../../helpers/source.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/payloads/${name}`, import.meta.url));

function normalizeFixture(name: string, source: Partial<Source> = {}): IncidentDraft {
  const parsed = parsePayload(fixture(name));
  assert.ok(parsed.ok, `parse ${name}`);
  const draft = normalize(parsed.value.payload, testSource({ name: 'test-source', ...source }));
  assert.ok(draft.ok, draft.ok ? '' : draft.error);
  return draft.value;
}

const FIXTURES = readdirSync(new URL('../../fixtures/payloads/', import.meta.url)).filter((name) => name.endsWith('.json'));
const expected = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/payloads/expected/${name}`, import.meta.url), 'utf8')) as IncidentDraft;

describe('normalizes each vendor event family to its expected incident', () => {
  for (const name of FIXTURES) {
    it(name, () => {
      assert.deepEqual(normalizeFixture(name), expected(name));
    });
  }
});

describe('indicators are what the alert is about', () => {
  const all = (draft: IncidentDraft) => Object.values(draft.observables).flat();

  it("never takes the API's own links or private-use metadata for observables", () => {
    for (const name of FIXTURES) {
      for (const value of all(normalizeFixture(name))) {
        assert.doesNotMatch(value, /\$metadata|security\.microsoft\.com|securitycenter|falcon\.crowdstrike\.com|@go\?sid=/, `${name}: ${value}`);
      }
    }
  });

  it('reads only documented hash algorithms from Graph fileHash, never authenticode or PE hashes', () => {
    const legacy = normalizeFixture('graph-alert-legacy.json');
    assert.ok(!legacy.observables.hashes.some((hash) => hash.startsWith('aaaabbbb')));
    assert.deepEqual(legacy.observables.sha1, ['6cbce4a295c163791b60fc23d285e6d84f28ee4c']);
  });

  it('ignores evidence types that carry no indicator kind and ones it does not know', () => {
    const v2 = all(normalizeFixture('graph-alert-v2-evidence.json'));
    for (const value of [
      'Office 365',
      'Mail Sync Helper',
      'Domain Admins',
      'vm1',
      '192.0.2.250',
      'https://future.example/ignored',
      'cmd.exe',
      'C:\\Windows\\System32\\cmd.exe',
      '0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6',
      'https://learn.microsoft.com/defender',
    ]) {
      assert.ok(!v2.includes(value), value);
    }
  });

  it('takes a Graph legacy user with a mail role as an email address too', () => {
    const draft = normalize(
      {
        title: 'Phish delivered',
        severity: 'medium',
        vendorInformation: { provider: 'Office 365 Security and Compliance' },
        userStates: [
          { accountName: 'dana', userPrincipalName: 'Dana@corp.example.com', emailRole: 'recipient' },
          { userPrincipalName: 'ops@corp.example.com', emailRole: 'unknown' },
        ],
      },
      testSource({ name: 'graph' }),
    );
    assert.ok(draft.ok);
    assert.equal(draft.value.format, 'defender');
    assert.deepEqual(draft.value.observables.emails, ['dana@corp.example.com']);
    assert.deepEqual(draft.value.observables.users, ['dana', 'Dana@corp.example.com', 'ops@corp.example.com']);
  });

  it('skips Splunk internal fields and Falcon sensor ids', () => {
    assert.ok(!all(normalizeFixture('splunk-es-notable.json')).some((value) => value.includes('es-idx-01')));
    const idp = all(normalizeFixture('crowdstrike-idp-detection-summary.json'));
    assert.ok(!idp.includes('7c6b5a4938271605f4e3d2c1b0a99887'));
  });
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

describe('Splunk alerts that trigger for each result', () => {
  const deliver = (result: Record<string, unknown>) => {
    const rawBody = Buffer.from(
      JSON.stringify({
        sid: 'scheduler__admin__search__RMD5_at_1705320000_7',
        search_name: 'Failed Login Alert',
        results_link: 'https://splunk.example/x',
        result,
      }),
    );
    const draft = normalize(JSON.parse(rawBody.toString()), testSource({ name: 'siem' }));
    assert.ok(draft.ok);
    const key = dedupeKey({ signedId: undefined, externalId: draft.value.externalId, format: draft.value.format, rawBody });
    assert.ok(key.ok);
    return key.value;
  };

  it('keeps rows of one search run apart (one sid), and a resent row the same event', () => {
    const first = deliver({ host: 'server-01', user: 'alice', EventCode: '4625' });
    assert.notEqual(deliver({ host: 'server-02', user: 'bob', EventCode: '4625' }), first);
    assert.equal(deliver({ host: 'server-01', user: 'alice', EventCode: '4625' }), first);
  });
});

describe('Splunk: the tables of docs/normalization.md, entry by entry', () => {
  const splunkDraft = (payload: Record<string, unknown>) => {
    const draft = normalize(payload, testSource({ name: 'siem', format: 'splunk' }));
    assert.ok(draft.ok, draft.ok ? '' : draft.error);
    return draft.value;
  };
  const row = (result: Record<string, unknown>) => splunkDraft({ search_name: 'Scheduled search', sid: 'sid-1', result });

  it('maps alert.severity 1–6 on its own scale', () => {
    const expected = { '1': 'info', '2': 'info', '3': 'low', '4': 'medium', '5': 'high', '6': 'critical' };
    for (const [value, severity] of Object.entries(expected)) assert.equal(row({ severity: value }).severity, severity, `severity ${value}`);
  });

  it('types a notable by its security domain, in any case, when the title names no type', () => {
    const expected = {
      access: 'authentication',
      endpoint: 'malware',
      network: 'intrusion',
      threat: 'intrusion',
      identity: 'policy_violation',
      audit: 'policy_violation',
      Endpoint: 'malware',
      inventory: 'other',
    };
    for (const [domain, incidentType] of Object.entries(expected)) {
      const draft = row({ rule_title: 'Notable 42', security_domain: domain });
      assert.equal(draft.incidentType, incidentType, domain);
      assert.equal(draft.eventType, 'notable', domain);
    }
    assert.equal(row({ rule_title: 'Notable 42' }).eventType, 'alert');
  });

  it('types a row with a Windows logon, Kerberos, NTLM or lockout event code as authentication', () => {
    for (const code of ['4624', '4625', '4740', '4771', '4776']) assert.equal(row({ EventCode: code }).incidentType, 'authentication', code);
    assert.equal(row({ EventCode: '4688' }).incidentType, 'other');
    assert.equal(row({ EventCode: '4688', signature: 'Ransomware behaviour detected' }).incidentType, 'malware', 'the signature names the type');
  });

  it('reads MITRE annotations flattened in the row or nested under annotations', () => {
    const flat = row({ 'annotations.mitre_attack': 'T1110', 'annotations.mitre_attack.mitre_tactic_id': 'TA0006' }).mitre;
    assert.deepEqual([flat.techniques, flat.tactics], [['T1110'], ['TA0006']]);
    const flatTechnique = row({ 'annotations.mitre_attack.mitre_technique_id': 'T1078', 'annotations.mitre_attack.mitre_tactic': 'credential-access' }).mitre;
    assert.deepEqual(flatTechnique.techniques, ['T1078']);
    assert.ok(flatTechnique.tactics.length > 0, 'a tactic by name');
    const nested = row({ annotations: { mitre_attack: { mitre_technique_id: 'T1059', mitre_tactic_id: 'TA0002' } } }).mitre;
    assert.deepEqual([nested.techniques, nested.tactics], [['T1059'], ['TA0002']]);
    const nestedByName = row({ annotations: { mitre_attack: { mitre_tactic: 'persistence' } } }).mitre;
    assert.ok(nestedByName.tactics.length > 0, 'a nested tactic by name');
    assert.deepEqual(row({ annotations: { mitre_attack: 'T1566' } }).mitre.techniques, ['T1566']);
  });

  it("takes a notable's event_id as its id, a sid only for an alert without a row", () => {
    assert.equal(row({ event_id: 'ES-7' }).externalId, 'ES-7');
    assert.equal(row({ host: 'a' }).externalId, null, 'a row shares its sid with the run');
    assert.equal(splunkDraft({ search_name: 'Scheduled search', sid: 'sid-1' }).externalId, 'sid-1');
  });

  it('titles a nameless alert by its sid, and a row by its rule before the search name', () => {
    assert.equal(splunkDraft({ search_name: null, sid: 'sid-9', results_link: 'https://splunk.example/x' }).title, 'Splunk alert sid-9');
    assert.equal(row({ rule_name: 'Brute force' }).title, 'Brute force');
    assert.equal(row({ rule_title: 'Brute force on dc-01', rule_name: 'Brute force' }).title, 'Brute force on dc-01');
  });

  it("is detected by Splunk's envelope: a sid or search name with a row, a results link or the other", () => {
    const detected = (payload: Record<string, unknown>) => {
      const draft = normalize(payload, testSource({ name: 'siem' }));
      assert.ok(draft.ok);
      return draft.value.format;
    };
    assert.equal(detected({ sid: 's', results_link: 'https://splunk.example/x' }), 'splunk');
    assert.equal(detected({ sid: 's', result: {} }), 'splunk');
    assert.equal(detected({ search_name: 'n', results_link: 'https://splunk.example/x' }), 'splunk');
    assert.equal(detected({ search_name: 'n', sid: 7 }), 'splunk');
    assert.equal(detected({ search_name: 'n', result: {} }), 'splunk');
    for (const payload of [{ sid: 's' }, { search_name: 'n' }, { sid: 's', results_link: 7 }, { sid: 7, result: {} }]) {
      assert.equal(detected(payload), 'generic', JSON.stringify(payload));
    }
  });
});
