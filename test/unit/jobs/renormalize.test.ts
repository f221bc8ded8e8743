/** What re-normalization makes of one stored incident (src/jobs/renormalize.ts), without a store. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renormalized } from '../../../src/jobs/renormalize.js';
import { normalize, normalizerVersion } from '../../../src/normalize/index.js';
import { parseJsonObject } from '../../../src/normalize/parse.js';
import { newIncident } from '../../../src/incidents/incident.js';
import type { Incident } from '../../../src/incidents/model.js';
import { testSource } from '../../helpers/source.js';
import { compileFilter } from '../../../src/filters/filter.js';

const body = JSON.stringify({ event_type: 'security_alert', data: { alert_id: 'a-1', severity: 'p1', host: 'ws-1' } });

/** An incident as the ingest use-case builds it for `source`: the draft normalized, the incident built whole from it. */
function ingested(source = testSource({ name: 'edr' }), raw = body): Incident {
  const payload = parseJsonObject(raw);
  assert.ok(payload.ok);
  const draft = normalize(payload.value, source);
  assert.ok(draft.ok);
  const facts = {
    id: 'a1b2',
    source: source.name,
    receivedAt: '2026-01-15T10:00:00.000Z',
    dedupeKey: 'ext:generic:a-1',
    raw,
    labels: {},
    triagePlaybook: null,
    test: false,
  };
  return { ...newIncident(draft.value, facts, normalizerVersion(draft.value.format)), number: 'INC-2026-0001' };
}

describe('re-normalizing one incident', () => {
  it('is unchanged under the settings it was built with', () => {
    const source = testSource({ name: 'edr' });
    assert.deepEqual(renormalized(ingested(source), source, undefined), { outcome: 'unchanged' });
  });

  it("changes what the source's new mapping changes, and names the fields in the API's words", () => {
    const incident = ingested();
    const result = renormalized(incident, testSource({ name: 'edr', severityMapping: { p1: 'critical' } }), undefined);
    assert.equal(result.outcome, 'changed');
    assert.deepEqual(result.outcome === 'changed' && [result.fields, result.draft.severity, result.draft.title, result.normalizerVersion], [
      ['severity'],
      'critical',
      incident.title,
      1,
    ]);
  });

  it("keeps the severity the source's filter chose at ingest", () => {
    const filter = compileFilter({ severity: '"low"' });
    assert.ok(filter.ok);
    const source = testSource({ name: 'edr', filter: filter.value });
    const incident = { ...ingested(source), severity: 'low' as const };
    assert.deepEqual(renormalized(incident, source, undefined), { outcome: 'unchanged' });
    const result = renormalized(incident, testSource({ name: 'edr' }), undefined);
    assert.deepEqual(result.outcome === 'changed' && [result.fields, result.draft.severity], [['severity'], 'medium']);
  });

  it('counts an incident built before versions were recorded as changed in its normalizer version only', () => {
    const source = testSource({ name: 'edr' });
    const result = renormalized({ ...ingested(source), normalizerVersion: 0 }, source, undefined);
    assert.deepEqual(result.outcome === 'changed' && result.fields, ['normalizer_version']);
  });

  it('skips, saying why: another format than asked, its source not served, its raw body dropped, a body today refuses', () => {
    const source = testSource({ name: 'edr' });
    const incident = ingested(source);
    assert.deepEqual(renormalized(incident, source, 'crowdstrike'), { outcome: 'skipped', reason: 'other_format' });
    assert.deepEqual(renormalized(incident, undefined, undefined), { outcome: 'skipped', reason: 'source_not_served' });
    assert.deepEqual(renormalized({ ...incident, raw: null }, source, undefined), { outcome: 'skipped', reason: 'raw_body_dropped' });
    const refused = renormalized(incident, testSource({ name: 'edr', format: 'defender' }), undefined);
    assert.equal(refused.outcome === 'skipped' && refused.reason, 'not_normalizable');
    assert.match(refused.outcome === 'skipped' ? (refused.error ?? '') : '', /^defender payload lacks title/);
  });
});
