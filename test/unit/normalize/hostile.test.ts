import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_OBSERVABLES_PER_KIND, MAX_TITLE_LENGTH } from '../../../src/incidents/schema.js';
import type { Format, IncidentDraft } from '../../../src/incidents/model.js';
import { normalize } from '../../../src/normalize/index.js';
import { parsePayload } from '../../../src/normalize/parse.js';
import { testSource } from '../../helpers/source.js';

const parse = (body: string | Buffer) => parsePayload(typeof body === 'string' ? Buffer.from(body) : body);

/** Parse and normalize as the ingest route does: a Result either way, never a throw. */
function ingest(body: string, format?: Format): { ok: true; value: IncidentDraft } | { ok: false; error: string } {
  const parsed = parse(body);
  return parsed.ok ? normalize(parsed.value.payload, testSource({ name: 'edr', format })) : parsed;
}

describe('parsePayload', () => {
  it('keeps the body text exactly as received', () => {
    const body = '{"event_type":"test","data":{"note":"caf\u00e9 \u2603"}}';
    const parsed = parse(body);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.text, body);
    assert.deepEqual(parsed.value.payload, { event_type: 'test', data: { note: 'caf\u00e9 \u2603' } });
  });

  it('rejects invalid UTF-8 instead of replacing it', () => {
    assert.deepEqual(parse(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])), {
      ok: false,
      error: 'body is not valid UTF-8',
    });
  });

  it('accepts a byte order mark and keeps it in the text', () => {
    const parsed = parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
    assert.ok(parsed.ok);
    assert.equal(parsed.value.text, '\ufeff{"a":1}');
  });

  it('says what is wrong with bodies that are not a JSON object', () => {
    assert.deepEqual(parse(''), { ok: false, error: 'body is empty; expected a JSON object' });
    assert.deepEqual(parse('[1,2]'), { ok: false, error: 'expected a JSON object at top level, got an array' });
    assert.deepEqual(parse('"text"'), { ok: false, error: 'expected a JSON object at top level, got a string' });
    assert.deepEqual(parse('null'), { ok: false, error: 'expected a JSON object at top level, got null' });
    const broken = parse('{"a":');
    assert.ok(!broken.ok);
    assert.match(broken.error, /^body is not valid JSON: /);
    assert.doesNotMatch(broken.error, /\n\s+at /);
  });

  it('rejects 10^5-deep nesting without overflowing the stack', () => {
    for (const body of ['['.repeat(100_000) + ']'.repeat(100_000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)]) {
      assert.deepEqual(parse(body), { ok: false, error: 'JSON nesting is deeper than 64 levels' });
    }
    assert.deepEqual(parse('{"a":' + '['.repeat(100_000)), { ok: false, error: 'JSON nesting is deeper than 64 levels' });
  });

  it('accepts nesting up to the bound and ignores brackets inside strings', () => {
    assert.ok(parse('{"a":' + '['.repeat(63) + ']'.repeat(63) + '}').ok);
    assert.ok(parse(JSON.stringify({ text: '['.repeat(1000), quote: '\\"[[[' })).ok);
  });
});

describe('hostile payloads give a safe draft or an error, never a throw', () => {
  it('takes no megabyte-long IPv6 zone for an address: the alert is kept, the token is no observable', () => {
    // node's isIP accepts `::%` and any zone after it; an observable over the schema's bound failed the whole incident.
    const token = '::%' + 'a-'.repeat(40_000);
    const draft = normalize({ event_type: 'alert', data: { alert_id: 'a-1', title: token, note: `seen from ${token}` } }, testSource({ name: 'edr' }));
    assert.ok(draft.ok, draft.ok ? '' : draft.error);
    assert.ok(
      draft.value.observables.ips.every((ip) => ip.length <= 64),
      'no address longer than an address',
    );
  });

  it('does not pollute prototypes through __proto__ or constructor keys', () => {
    for (const body of [
      '{"__proto__":{"polluted":1}}',
      '{"data":{"__proto__":{"polluted":1},"details":{"__proto__":{"polluted":1}}}}',
      '{"constructor":{"prototype":{"polluted":1}},"event_type":"x"}',
      '{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"DetectName":"x","__proto__":{"polluted":1}}}',
    ]) {
      const result = ingest(body);
      assert.ok(result.ok, body);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    }
  });

  it('looks up vendor values like constructor or __proto__ as unknown words, not inherited members', () => {
    for (const severity of ['constructor', '__proto__', 'toString']) {
      const result = ingest(JSON.stringify({ event_type: 'constructor', data: { severity } }));
      assert.ok(result.ok);
      assert.equal(result.value.severity, 'medium');
      assert.equal(result.value.vendorSeverity, severity);
      assert.equal(result.value.title, 'constructor');
    }
  });

  it('never turns $, dotted or NUL keys into anything but values it validated', () => {
    const result = ingest(
      JSON.stringify({
        $where: 'sleep(1000)',
        'a.b': { $gt: '' },
        'nul\u0000key': 'x\u0000y',
        event_type: 'alert\u0000type',
        data: { title: 'Line one\nline\u0000two', details: { $set: { host: 'web-01' } } },
      }),
    );
    assert.ok(result.ok);
    assert.equal(result.value.title, 'Line one line two');
    assert.equal(result.value.eventType, 'alert type');
    assert.deepEqual(result.value.observables.hosts, ['web-01']);
    assert.deepEqual(Object.keys(result.value).sort(), [
      'eventType',
      'externalId',
      'format',
      'incidentType',
      'mitre',
      'observables',
      'occurredAt',
      'severity',
      'title',
      'vendorSeverity',
    ]);
  });

  it('keeps huge numbers out of the draft', () => {
    const result = ingest('{"event_type":"x","timestamp":1e400,"data":{"alert_id":1e400,"severity":123456789012345678901234567890}}');
    assert.ok(result.ok);
    assert.equal(result.value.occurredAt, null);
    assert.equal(result.value.externalId, null);
    assert.equal(result.value.severity, 'medium');
    assert.equal(result.value.vendorSeverity, '1.2345678901234568e+29');
    const falcon = ingest('{"metadata":{"eventType":"DetectionSummaryEvent","eventCreationTime":1e400},"event":{"DetectName":"x","Severity":1e400}}');
    assert.ok(falcon.ok);
    assert.equal(falcon.value.occurredAt, null);
    assert.equal(falcon.value.vendorSeverity, null);
    assert.ok(ingest('{"search_name":"s","sid":"1","trigger_time":123456789012345678901234567890}').ok);
  });

  it('bounds titles and observables', () => {
    const ips = Array.from({ length: 500 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`);
    const result = ingest(
      JSON.stringify({ event_type: 'x', data: { title: 'T'.repeat(10_000), details: { ips, url: `https://a.example/${'x'.repeat(5000)}` } } }),
    );
    assert.ok(result.ok);
    assert.equal(result.value.title.length, MAX_TITLE_LENGTH);
    assert.equal(result.value.observables.ips.length, MAX_OBSERVABLES_PER_KIND);
    assert.deepEqual(result.value.observables.urls, []);
  });

  it('walks wide payloads within its budget', () => {
    const wide = { event_type: 'x', data: { details: Array.from({ length: 200_000 }, (_, i) => ({ v: `user${i}@example.com` })) } };
    const result = ingest(JSON.stringify(wide));
    assert.ok(result.ok);
    assert.ok(result.value.observables.emails.length <= MAX_OBSERVABLES_PER_KIND);
  });

  it('keeps trailing punctuation out of URLs, emails and ips found in text', () => {
    const result = ingest(
      JSON.stringify({
        event_type: 'x',
        data: { details: 'see (https://evil.example/a?b=1).; or https://evil.example/c],: from bob@example.com:. at 192.0.2.4.' },
      }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.value.observables.urls, ['https://evil.example/a?b=1', 'https://evil.example/c']);
    assert.deepEqual(result.value.observables.emails, ['bob@example.com']);
    assert.deepEqual(result.value.observables.ips, ['192.0.2.4']);
  });

  it('scans 60,000-character runs of punctuation in text in linear time', () => {
    const run = (char: string) => char.repeat(60_000);
    const cases: Array<[text: string, urls: string[]]> = [
      // Each of these took seconds while the trailing trims were `replace(/[…]+$/)`.
      [`http://a${run('.')}x`, []],
      [`a@${run('.')}x`, []],
      [`a${run(':')}x`, []],
      [`http://a${run('.')}`, ['http://a']],
      [`http://a${run(' ')}x`, ['http://a']],
    ];
    for (const [text, urls] of cases) {
      const started = performance.now();
      const result = ingest(JSON.stringify({ event_type: 'x', data: { title: text, details: text } }));
      const elapsedMs = performance.now() - started;
      assert.ok(result.ok);
      assert.deepEqual(result.value.observables.urls, urls);
      assert.deepEqual(result.value.observables.emails, []);
      assert.ok(elapsedMs < 250, `normalizing ${JSON.stringify(text.slice(0, 12))}… took ${elapsedMs.toFixed(0)} ms`);
    }
  });

  it('treats an unparsable Office 365 Data string as no details', () => {
    const result = ingest(
      JSON.stringify({ Name: 'Alert', AlertId: 'a1', Severity: 'High', CreationTime: '2024-01-15T10:00:00', Data: '{"f3u":' + '['.repeat(1000) }),
    );
    assert.ok(result.ok);
    assert.equal(result.value.format, 'defender');
    assert.deepEqual(result.value.observables.users, []);
  });
});
