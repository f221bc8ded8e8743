import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyFilter, compileExpression, compileFilter } from '../../../src/filters/filter.js';
import { MAX_DEPTH, MAX_MACRO_NESTING, MAX_NODES, MAX_STEPS_PER_VALUE } from '../../../src/filters/bounds.js';
import type { IncidentDraft } from '../../../src/incidents/model.js';

const draft = (): IncidentDraft => ({
  format: 'generic',
  eventType: 'security_alert',
  title: 'Mimikatz on ws-1',
  severity: 'high',
  vendorSeverity: 'high',
  incidentType: 'malware',
  occurredAt: '2026-01-15T10:00:00.000Z',
  externalId: 'a-1',
  observables: {
    hosts: ['ws-1.corp'],
    users: [],
    emails: [],
    ips: [],
    hashes: [],
    urls: [],
    domains: [],
    processes: [],
    files: [],
    md5: [],
    sha1: [],
    sha256: [],
  },
  mitre: { tactics: [], techniques: [] },
});

const refusal = (text: string) => {
  const compiled = compileExpression(text);
  assert.ok(!compiled.ok, `${text} is refused`);
  return compiled.error;
};

describe('compiling filter expressions', () => {
  it('accepts expressions over payload and incident, macros over the payload and through its elements included', () => {
    for (const text of [
      'payload.data.severity == "high" && incident.severity in ["critical", "high"]',
      '!payload.data.tags.exists(t, t == "test")',
      'payload.alerts.exists(a, a.hosts.exists(h, h.endsWith(".corp")))',
      'size(payload.alerts.filter(a, a.severity >= 4)) > 2',
      'incident.title.matches("(?i)mimikatz") && has(payload.data)',
      'incident.observables.hosts.all(h, h.endsWith(".corp"))',
      'type(payload.score) == double ? payload.score > 90.0 : false',
    ]) {
      const compiled = compileExpression(text);
      assert.ok(compiled.ok, `${text}: ${compiled.ok || compiled.error}`);
    }
  });

  it("refuses what does not parse, with the parser's position", () => {
    assert.match(refusal('payload.('), /^1:8: found \. but expecting/);
  });

  it('refuses unknown variables and functions, so they fail here and not on every event', () => {
    assert.match(refusal('alert.severity == "high"'), /undeclared reference to 'alert'/);
    assert.match(refusal('payload.title.lowerAscii() == "x"'), /unknown function 'lowerAscii'/);
  });

  it('refuses a regular expression RE2 cannot compile, and a pattern that is not a literal', () => {
    assert.match(refusal('payload.title.matches("(")'), /^matches\(\): error parsing regexp: missing closing \)/);
    assert.match(refusal('payload.title.matches(payload.pattern)'), /pattern as a string literal/);
  });

  it(`refuses more than ${MAX_NODES} nodes and nesting deeper than ${MAX_DEPTH}`, () => {
    assert.match(refusal(`[${Array.from({ length: MAX_NODES }, (_, index) => index).join(', ')}].exists(x, x == 1)`), /more than 200 nodes/);
    assert.match(refusal(`${'['.repeat(MAX_DEPTH)}1${']'.repeat(MAX_DEPTH)} == []`), /deeper than 32 levels/);
  });

  it(`refuses macros nested deeper than ${MAX_MACRO_NESTING}`, () => {
    assert.match(refusal('payload.a.exists(x, x.b.exists(y, y.c.exists(z, z == 1)))'), /macros nest deeper than 2 levels/);
  });

  it('refuses a macro over the payload that reads the payload again (quadratic), and macro variables that hide payload or incident', () => {
    assert.match(refusal('payload.items.exists(i, payload.items.exists(j, i.id == j.parent))'), /reads payload again/);
    assert.match(refusal('payload.items.exists(i, i.name == payload.name)'), /reads payload again/);
    assert.match(refusal('payload.items.exists(payload, true)'), /would hide the payload variable/);
  });

  it(`refuses an estimated cost over ${MAX_STEPS_PER_VALUE} steps per payload value, with its reason`, () => {
    assert.equal(
      refusal('incident.observables.hosts.exists(h, h in payload.allowlist)'),
      "the expression's estimated cost is 100 steps per value of the payload, more than 64",
    );
    // Each side of == is read whole: 33 comparisons of the payload with itself read it 66 times.
    assert.equal(
      refusal(Array.from({ length: 33 }, () => 'payload == payload').join(' && ')),
      "the expression's estimated cost is 66 steps per value of the payload, more than 64",
    );
  });

  it('refuses iterating what map() and filter() build: the evaluator recurses once per element there', () => {
    assert.match(refusal('payload.items.map(i, i.name).exists(n, n == "x")'), /may only be counted with size\(\)/);
    assert.match(refusal('"x" in payload.items.filter(i, true)'), /may only be counted with size\(\)/);
  });

  it('names every refused expression of a filter', () => {
    const compiled = compileFilter({ match: 'payload.(', severity: '"high"', labels: { team: 'nope.x()', ok: '"a"' } });
    assert.ok(!compiled.ok);
    assert.deepEqual(
      compiled.error.map((problem) => problem.at),
      ['match', 'labels.team'],
    );
  });
});

describe('applying a filter', () => {
  const filter = compileFilter({
    match: 'payload.data.severity != "low"',
    severity: 'payload.data.score > 90.0 ? "critical" : incident.severity',
    labels: { team: 'payload.data.team', score: 'payload.data.score', host: 'incident.observables.hosts[0]' },
  });
  assert.ok(filter.ok);

  it('filters out an event whose match is false', () => {
    assert.deepEqual(applyFilter(filter.value, { data: { severity: 'low' } }, draft(), 'edr'), { filtered: true, errors: [] });
  });

  it('sets the severity and adds labels from the payload and the incident (numbers as text)', () => {
    assert.deepEqual(applyFilter(filter.value, { data: { severity: 'high', score: 95, team: 'blue' } }, draft(), 'edr'), {
      filtered: false,
      severity: 'critical',
      labels: { team: 'blue', score: '95', host: 'ws-1.corp' },
      errors: [],
    });
  });

  it('keeps the event unchanged by an expression it cannot evaluate, and says which and why', () => {
    const outcome = applyFilter(filter.value, { other: true }, draft(), 'edr');
    assert.equal(outcome.filtered, false);
    assert.ok(!outcome.filtered);
    assert.equal(outcome.severity, undefined);
    assert.deepEqual(outcome.labels, { host: 'ws-1.corp' });
    assert.deepEqual(outcome.errors, [
      'match: field not found: data',
      'severity: field not found: data',
      'labels.team: field not found: data',
      'labels.score: field not found: data',
    ]);
  });

  it('keeps an event whose match is not a bool, ignores a severity that is not one, and cuts long label values', () => {
    const odd = compileFilter({ match: 'payload.x', severity: '"urgent"', labels: { long: 'payload.long' } });
    assert.ok(odd.ok);
    const outcome = applyFilter(odd.value, { x: 'yes', long: 'v'.repeat(1000) }, draft(), 'edr');
    assert.ok(!outcome.filtered);
    assert.equal(outcome.severity, undefined);
    assert.equal(outcome.labels.long, 'v'.repeat(256));
    assert.deepEqual(outcome.errors, ['match: expected a bool', 'severity: expected one of critical, high, medium, low, info']);
  });

  it('sees the incident in the read API names', () => {
    const named = compileFilter({ match: 'incident.source == "edr" && incident.event_type == "security_alert" && incident.vendor_severity == "high"' });
    assert.ok(named.ok);
    assert.deepEqual(applyFilter(named.value, {}, draft(), 'edr'), { filtered: false, severity: undefined, labels: {}, errors: [] });
    assert.equal(applyFilter(named.value, {}, draft(), 'other').filtered, true);
  });
});
