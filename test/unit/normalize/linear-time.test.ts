/**
 * Every function that reads text a sender controls takes time linear in it: property tests with
 * strings up to the default body limit (1 MiB) in pathological shapes (a long run of one unit
 * after a prefix that leads a matcher into it, then a character that makes the match fail).
 * Linear time shows twice: each call on 64 KiB and on 1 MiB stays under CALL_BOUND_MS, and 16× the
 * input costs at most MAX_RATIO× the time (linear costs 16×, quadratic 256×). Times are the
 * process's CPU time, not wall time: on a loaded machine the wall clock also counts the time other
 * processes held the core, which is not the code's cost.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stopCoverage } from 'node:v8';
import fc from 'fast-check';
import { parseTrustedProxies } from '../../../src/config/trusted-proxies.js';
import { bearerToken } from '../../../src/http/api/auth.js';
import { clientAddress } from '../../../src/http/client-address.js';
import { verifyRequest, type VerifiableRequest } from '../../../src/verify/index.js';
import { parseSignatureHeader } from '../../../src/verify/signature-header.js';
import { checkTimestamp } from '../../../src/verify/timestamp.js';
import { checkedEventId, dedupeKey } from '../../../src/incidents/dedupe.js';
import { addressKey } from '../../../src/http/sender-limits.js';
import type { Format } from '../../../src/incidents/model.js';
import { detectFormat } from '../../../src/normalize/detect.js';
import { text as fieldText, type JsonObject } from '../../../src/normalize/fields.js';
import { classifyIncident } from '../../../src/normalize/incident-type.js';
import { normalize } from '../../../src/normalize/index.js';
import { applyFilter, compileFilter } from '../../../src/filters/filter.js';
import { MitreCollector } from '../../../src/normalize/mitre.js';
import { ObservableCollector, type FieldKind } from '../../../src/normalize/observables.js';
import { parsePayload } from '../../../src/normalize/parse.js';
import { mapSeverity, numericScale } from '../../../src/normalize/severity.js';
import { toIsoUtc } from '../../../src/normalize/time.js';
import type { Source, VerificationProfile } from '../../../src/sources/source.js';
import { testSource } from '../../helpers/source.js';

// The timed calls run without the V8 coverage counters `npm test` collects with: those make hot loops
// several times slower, and the bounds below are for the code as it runs in the service. (So at this
// file's exit Node notes "Failed to get 'result' from coverage profile response": none is kept.)
stopCoverage();

const LARGE = 1024 * 1024;
const SMALL = LARGE / 16;
/** Generous for a loaded 2-core machine: the quadratic trims this guards against took seconds on 60 kB. */
const CALL_BOUND_MS = 250;
const MAX_RATIO = 64;
/** Below this a measurement is timer, cache and GC noise, not the code's cost. */
const NOISE_FLOOR_MS = 2;
/** Per target: about 50 targets stay within a few seconds. */
const RUNS = 25;

interface Shape {
  prefix: string;
  unit: string;
  suffix: string;
  /** Picks a fixture and a field in it, for targets that need one. */
  pick: number;
}

const shapes: fc.Arbitrary<Shape> = fc.record({
  prefix: fc.constantFrom(
    '',
    'http://a',
    'https://',
    'a@',
    'mailto:a',
    'sha256=',
    'v1,',
    'Bearer ',
    '2024-01-15T10:00:00',
    'T1059.',
    '192.0.2.1',
    '::ffff:',
    '::%',
    'TA00',
    '{"a":',
  ),
  unit: fc.oneof(
    fc.constantFrom(
      '.',
      ' ',
      '-',
      '@',
      ':',
      '/',
      'a',
      '0',
      'http://',
      '%',
      '%2',
      '[',
      '[{(',
      '\\',
      ',',
      '\t',
      '=',
      'a.',
      'a-',
      '1.',
      'a@',
      'é',
      '\u{1F600}',
      '(stdin)= ',
    ),
    fc.string({ minLength: 1, maxLength: 6, unit: 'binary' }),
  ),
  suffix: fc.constantFrom('', 'x', '!', '\u0000', '"', '\\', ' x', '@', ')', '\ud800'),
  pick: fc.nat(),
});

/** Shapes tried on every run, before the random ones: the dotted URL an email gateway relays, and its kin. */
const NAMED_SHAPES: ReadonlyArray<Omit<Shape, 'pick'>> = [
  { prefix: 'http://a', unit: '.', suffix: 'x' },
  { prefix: 'http://a', unit: ' ', suffix: 'x' },
  { prefix: 'a', unit: '-', suffix: '.com!' },
  { prefix: 'a@', unit: '.', suffix: 'x' },
  { prefix: 'mailto:a@b', unit: ':', suffix: 'x' },
  { prefix: 'a', unit: '@', suffix: '.x' },
  { prefix: 'http:', unit: '/', suffix: '"' },
  { prefix: '', unit: 'a', suffix: '!' },
  { prefix: '', unit: 'http://', suffix: ' x' },
  { prefix: '::%', unit: '%', suffix: '!' },
  { prefix: '', unit: '[{(', suffix: 'x' },
  { prefix: '', unit: 'é', suffix: '\ud800' },
  { prefix: '', unit: '\u{1F600}', suffix: 'x' },
  { prefix: 'sha256=', unit: '0', suffix: 'x' },
  { prefix: '2024-01-15T10:00:00', unit: ' ', suffix: 'Zx' },
];
const examples = NAMED_SHAPES.map((shape, index): [Shape] => [{ ...shape, pick: index * 7 }]);

/** Exactly `length` UTF-16 units: prefix, the unit repeated, suffix. */
function hostile({ prefix, unit, suffix }: Shape, length: number): string {
  const run = length - prefix.length - suffix.length;
  return prefix + unit.repeat(Math.ceil(run / unit.length)).slice(0, run) + suffix;
}

/** A target prepares its input outside the timing and returns the one call that is timed. */
type Target = (text: string, shape: Shape) => () => unknown;

function elapsedMs(call: () => unknown): number {
  const started = process.cpuUsage();
  call();
  const { user, system } = process.cpuUsage(started);
  return (user + system) / 1000;
}

/** Measured again (fastest of three) only while over `boundMs`: a GC pause or a busy core is not the code's time. */
function settledMs(call: () => unknown, boundMs: number): number {
  let fastest = elapsedMs(call);
  for (let attempt = 1; attempt < 3 && fastest >= boundMs; attempt++) fastest = Math.min(fastest, elapsedMs(call));
  return fastest;
}

/** A target's own limits, where its measured constant factors need more room than the defaults. */
interface Limits {
  boundMs: number;
  /** Random shapes after the named ones (RUNS unless a slow target says fewer). */
  runs?: number;
}

function assertLinear(target: Target, { boundMs, runs = RUNS }: Limits): void {
  fc.assert(
    fc.property(shapes, (shape) => {
      const smallMs = settledMs(target(hostile(shape, SMALL), shape), boundMs / MAX_RATIO);
      const allowedMs = Math.min(boundMs, MAX_RATIO * Math.max(smallMs, NOISE_FLOOR_MS));
      const largeMs = settledMs(target(hostile(shape, LARGE), shape), allowedMs);
      const what = `${JSON.stringify(shape.prefix)} + ${JSON.stringify(shape.unit)}… + ${JSON.stringify(shape.suffix)}`;
      // Both bounds: a function that reads only a prefix of its input is slow at the small size if at all.
      assert.ok(smallMs < boundMs, `${what}: 64 KiB took ${smallMs.toFixed(1)} ms`);
      assert.ok(largeMs < boundMs, `${what}: 1 MiB took ${largeMs.toFixed(1)} ms`);
      assert.ok(largeMs < allowedMs, `${what}: 64 KiB took ${smallMs.toFixed(2)} ms, 1 MiB ${largeMs.toFixed(1)} ms`);
    }),
    // Shrinking re-runs slow cases for a smaller string; the shape already says what is slow.
    { numRuns: examples.length + runs, examples, endOnFailure: true },
  );
}

function linearly(name: string, target: Target, limits: Limits = { boundMs: CALL_BOUND_MS }): void {
  it(`${name} takes linear time`, () => assertLinear(target, limits));
}

// --- Normalizers: every vendor fixture with one of its values replaced by the hostile string.

const fixtureDir = new URL('../../fixtures/payloads/', import.meta.url);
const fixtures = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(new URL(name, fixtureDir), 'utf8')) as JsonObject);

type Path = ReadonlyArray<string | number>;

/** The paths of a fixture's scalar values, where a sender's text can stand. */
function leafPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...path, index]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...path, key]));
  return [path];
}

const fixtureLeaves = fixtures.map((fixture) => leafPaths(fixture));

/** A fixture chosen by `pick`, with the value at a path chosen by `pick` replaced by `text`. */
function hostileFixture(text: string, pick: number): JsonObject {
  const index = pick % fixtures.length;
  const leaves = fixtureLeaves[index]!;
  const path = leaves[Math.floor(pick / fixtures.length) % leaves.length]!;
  const payload = structuredClone(fixtures[index]!);
  let parent: Record<string | number, unknown> = payload;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path.at(-1)!] = text;
  return payload;
}

const FIELD_KINDS: readonly FieldKind[] = ['hosts', 'users', 'emails', 'ips', 'urls', 'domains', 'processes', 'files', 'md5', 'sha1', 'sha256', 'hash'];

describe('normalizers take linear time in hostile text', () => {
  linearly('parsePayload of a JSON body', (text) => {
    const body = Buffer.from(JSON.stringify({ event_type: 'x', data: { details: text } }));
    return () => parsePayload(body);
  });
  linearly('parsePayload of a body that is the text itself', (text) => {
    const body = Buffer.from(text);
    return () => parsePayload(body);
  });
  linearly('normalize of a generic alert with hostile title and details', (text) => {
    const payload = { event_type: 'alert', data: { alert_id: 'a-1', title: text, details: { text, note: [text] } } };
    const source = testSource({ name: 'email-gateway' });
    return () => normalize(payload, source);
  });
  for (const format of [undefined, 'generic', 'defender', 'crowdstrike', 'splunk'] satisfies Array<Format | undefined>) {
    const source = testSource({ name: 'edr', format });
    linearly(`normalize (${format ?? 'detected format'})`, (text, { pick }) => {
      const payload = hostileFixture(text, pick);
      // A Result either way (a replaced required field fails the draft); a throw fails the test.
      return () => normalize(payload, source);
    });
  }
  linearly('detectFormat', (text, { pick }) => {
    const payload = hostileFixture(text, pick);
    return () => detectFormat(payload);
  });
  for (const kind of FIELD_KINDS) {
    linearly(`observables of kind ${kind}`, (text) => () => new ObservableCollector().add(kind, [text, text]));
  }
  linearly('the observables walk', (text) => () => new ObservableCollector().walk({ message: text, host: text, note: [text, text], file_sha256: text }));
  linearly('observable paths', (text) => () => new ObservableCollector().addPath('files', text, text.slice(1)));
  linearly('toIsoUtc', (text) => () => toIsoUtc(text));
  linearly('mapSeverity', (text) => {
    const mapping = { [text.toLowerCase()]: 'high' } as const;
    const scale = numericScale([[50, 'high']], 0, 100);
    return () => mapSeverity(text, mapping, scale);
  });
  linearly('a numeric severity scale', (text) => () => numericScale([[50, 'high']], 0, 100)(text));
  linearly('MITRE tactics', (text) => () => new MitreCollector().tactic([text, text.slice(0, 64)]));
  linearly('MITRE techniques', (text) => () => new MitreCollector().technique([text, text.slice(0, 64)]));
  // As every normalizer calls it: with candidates cut to a title's length by text().
  linearly('classifyIncident', (text) => () => classifyIncident([fieldText(text), fieldText(text.slice(1))], 'other'));
  linearly('field text', (text) => () => fieldText(text));
});

// --- Filters: a source's CEL expressions over a hostile payload and the incident normalized from it.

/** String functions, RE2 matching, conversions and macros over the incident, on whatever value the hostile text replaced. */
const STRING_FILTER = compileFilter({
  match: [
    'payload.data.title.contains("mimikatz")',
    'payload.data.title.startsWith("http://a")',
    'payload.data.title.endsWith("x")',
    'payload.data.title.matches("(?i)evil\\\\.example")',
    'size(payload.data.title) > 3',
    'payload.data.title == payload.data.note',
    'incident.observables.hosts.exists(h, h.endsWith(".corp"))',
    'incident.title.matches("^(a+)+$")',
  ].join(' || '),
  severity: 'payload.data.title.matches("^[a-z.@:/-]+$") ? "critical" : incident.severity',
  labels: {
    title: 'payload.data.title',
    number: 'string(int(payload.data.title))',
    time: 'string(timestamp(payload.data.title))',
    real: 'double(payload.data.title)',
  },
});
/** Macros over a payload list of parts of the hostile text: the evaluator's steps, not the text's characters, are the cost. */
const LIST_FILTER = compileFilter({
  match: '!payload.data.items.exists(i, i.startsWith("zzz") || i.matches("(?i)mimikatz"))',
  severity: 'size(payload.data.items.filter(i, i.contains(":"))) > 2 ? "high" : "low"',
  labels: { all: 'payload.data.items.all(i, size(i) > 0)', one: 'payload.data.items.exists_one(i, i == "a")' },
});
/** The list the hostile text becomes: 64-character parts, about what a JSON body of that size holds as short strings. */
const parts = (text: string) => Array.from({ length: Math.ceil(text.length / 64) }, (_, index) => text.slice(index * 64, index * 64 + 64));
/**
 * The CEL evaluator is an interpreter in JS: microseconds per macro step (2-9 µs on a loaded 2-core
 * machine), and its RE2 is in JS too, 40-90 ns per character matched (measured). So a call on
 * 1 MiB is allowed a second, and fewer random shapes are tried.
 */
const FILTER_LIMITS: Limits = { boundMs: 1000, runs: 10 };

/** `call` once untimed: the first evaluation on an input of a new size compiles the evaluator's paths for it and grows the heap. */
function warmed(call: () => unknown): () => unknown {
  call();
  return call;
}

describe('filter expressions take linear time in hostile payloads', () => {
  assert.ok(STRING_FILTER.ok && LIST_FILTER.ok, 'the filters compile');
  const source = testSource({ name: 'edr' });
  linearly(
    'a filter of string functions over a generic alert',
    (text) => {
      const payload = { event_type: 'alert', data: { alert_id: 'a-1', title: text, note: text.slice(1), details: { host: 'ws-1.corp' } } };
      const draft = normalize(payload, source);
      assert.ok(draft.ok);
      return warmed(() => applyFilter(STRING_FILTER.value, payload, draft.value, 'edr'));
    },
    FILTER_LIMITS,
  );
  linearly(
    'a filter over every vendor fixture with a hostile value',
    (text, { pick }) => {
      const payload = hostileFixture(text, pick);
      const draft = normalize(payload, source);
      return warmed(() => draft.ok && applyFilter(STRING_FILTER.value, payload, draft.value, 'edr'));
    },
    FILTER_LIMITS,
  );
  linearly(
    'macros over a payload list',
    (text) => {
      const payload = { event_type: 'alert', data: { alert_id: 'a-1', items: parts(text) } };
      const draft = normalize(payload, source);
      assert.ok(draft.ok);
      return warmed(() => applyFilter(LIST_FILTER.value, payload, draft.value, 'edr'));
    },
    // The shape of the parts hardly matters to a macro's steps: the named shapes suffice.
    { ...FILTER_LIMITS, runs: 0 },
  );
});

// --- The verifier: each profile with one hostile header (the others well-formed) and a hostile body.

const NOW_SECONDS = 1_700_000_000;

const wellFormedHeaders: Readonly<Record<VerificationProfile, Readonly<Record<string, string>>>> = {
  'hmac-sha256': { 'x-webhook-timestamp': String(NOW_SECONDS), 'x-webhook-signature': `sha256=${'0'.repeat(64)}` },
  'standard-webhooks': { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_SECONDS), 'webhook-signature': `v1,${'A'.repeat(43)}=` },
  'hmac-body': { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
  token: { authorization: 'Bearer not-the-token', 'x-webhook-token': 'not-the-token', 'webhook-authid': 'not-the-token' },
};

describe('the verifier takes linear time in hostile headers and bodies', () => {
  for (const [verification, headers] of Object.entries(wellFormedHeaders) as Array<[VerificationProfile, Record<string, string>]>) {
    const source: Source = testSource({ name: 'edr', verification, secrets: [Buffer.from('whsec_c2VjcmV0'), Buffer.from('secret')] });
    const verify = (request: VerifiableRequest) => () => assert.equal(verifyRequest(source, request, NOW_SECONDS).ok, false);
    for (const hostileHeader of Object.keys(headers)) {
      linearly(`${verification} with a hostile ${hostileHeader}`, (text) =>
        verify({ headers: { ...headers, [hostileHeader]: text }, query: new URLSearchParams(), rawBody: Buffer.from('{}') }),
      );
    }
    linearly(`${verification} with a hostile body`, (text) => verify({ headers, query: new URLSearchParams(), rawBody: Buffer.from(text) }));
    if (verification === 'token') {
      linearly('token with a hostile ?token=', (text) => verify({ headers: {}, query: new URLSearchParams({ token: text }), rawBody: Buffer.from('{}') }));
    }
  }
});

describe('header parsers take linear time in hostile headers', () => {
  const trusted = parseTrustedProxies(['127.0.0.0/8', '::1']);
  linearly('parseSignatureHeader', (text) => () => parseSignatureHeader(text));
  linearly('checkTimestamp', (text) => () => checkTimestamp(text, 'X-Webhook-Timestamp', NOW_SECONDS, 300));
  linearly('checkedEventId', (text) => () => checkedEventId(text));
  linearly('dedupeKey of an alert id', (text) => {
    const rawBody = Buffer.from(text);
    return () => dedupeKey({ signedId: undefined, externalId: text, format: 'generic', rawBody });
  });
  linearly('clientAddress of X-Forwarded-For', (text) => () => clientAddress('127.0.0.1', text, trusted));
  linearly('clientAddress of repeated X-Forwarded-For', (text) => () => clientAddress('::1', [text, text], trusted));
  linearly('the read API Bearer header', (text) => () => bearerToken(text));
  linearly('addressKey of a client address', (text) => () => addressKey(text));
});
