import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseWebhookConfig } from '../../../src/sources/webhook-config.js';
import { fileKeys } from '../../../src/sources/source-spec.js';
import type { Source } from '../../../src/sources/source.js';
import { SPEC_CASES, inFileWords } from '../../helpers/source-spec-cases.js';

const ORIGIN = 'file:/etc/tw/webhook_config.yaml';

/** The spec's "Configuring Auto-Triage" example, verbatim. */
const SPEC_EXAMPLE = `# webhook_config.yaml
sources:
  email-gateway:
    secret: "\${EMAIL_GATEWAY_SECRET}"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping:
      critical: critical
      high: high
      medium: medium
      low: low

  edr:
    secret: "\${EDR_SECRET}"
    auto_triage: true
    playbook: malware_triage
`;

const ENV = { EMAIL_GATEWAY_SECRET: 'gw-secret', EDR_SECRET: 'edr-secret' };

function parse(text: string, env: NodeJS.ProcessEnv = ENV): Source[] {
  const result = parseWebhookConfig(text, env, ORIGIN);
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.value;
}

function problem(text: string, env: NodeJS.ProcessEnv = ENV): string {
  const result = parseWebhookConfig(text, env, ORIGIN);
  assert.ok(!result.ok, 'expected the config to be rejected');
  return result.error;
}

describe('webhook_config.yaml as the spec shows it', () => {
  it('yields both sources with the defaults filled in', () => {
    const [gateway, edr] = parse(SPEC_EXAMPLE);
    assert.deepEqual(gateway, {
      name: 'email-gateway',
      secrets: [Buffer.from('gw-secret')],
      verification: 'hmac-sha256',
      format: undefined,
      autoTriage: true,
      playbook: 'phishing_triage',
      severityMapping: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
      toleranceSeconds: 300,
      maxBodyBytes: 1024 * 1024,
      rateLimit: undefined,
      processing: 'sync',
      filter: undefined,
      enabled: true,
      retentionDays: undefined,
      rawBodyRetentionDays: undefined,
      origin: ORIGIN,
    });
    assert.equal(edr?.name, 'edr');
    assert.deepEqual(edr?.secrets, [Buffer.from('edr-secret')]);
    assert.equal(edr?.playbook, 'malware_triage');
  });

  it('fails naming an unset variable and where it is used', () => {
    assert.equal(problem(SPEC_EXAMPLE, { EMAIL_GATEWAY_SECRET: 'x' }), `${ORIGIN}: sources.edr.secret: environment variable EDR_SECRET is not set`);
  });

  it('reports every unset variable at once', () => {
    const message = problem(SPEC_EXAMPLE, {});
    assert.match(message, /sources\.email-gateway\.secret: environment variable EMAIL_GATEWAY_SECRET is not set/);
    assert.match(message, /sources\.edr\.secret: environment variable EDR_SECRET is not set/);
  });
});

describe('our optional keys', () => {
  it('reads every optional key', () => {
    const [source] = parse(`
sources:
  siem:
    secret: s1
    previous_secret: s0
    format: splunk
    verification: token
    tolerance_seconds: 90
    max_body_bytes: 4096
    rate_limit: { requests_per_second: 3, burst: 10 }
    processing: async
    enabled: false
`);
    assert.deepEqual(source?.secrets, [Buffer.from('s1'), Buffer.from('s0')]);
    assert.equal(source?.format, 'splunk');
    assert.equal(source?.verification, 'token');
    assert.equal(source?.toleranceSeconds, 90);
    assert.equal(source?.maxBodyBytes, 4096);
    assert.deepEqual(source?.rateLimit, { requestsPerSecond: 3, burst: 10 });
    assert.equal(source?.processing, 'async');
    assert.equal(source?.enabled, false);
    assert.equal(source?.autoTriage, false);
  });

  it('defaults the burst to the rate', () => {
    const [source] = parse('sources:\n  a:\n    secret: s\n    rate_limit: { requests_per_second: 3 }\n');
    assert.deepEqual(source?.rateLimit, { requestsPerSecond: 3, burst: 3 });
  });

  it('takes lower-case severity_mapping keys as written and rejects upper-case ones, as the CRD does', () => {
    const [source] = parse('sources:\n  a:\n    secret: s\n    severity_mapping: { high: critical, "4": high }\n');
    assert.deepEqual(source?.severityMapping, { high: 'critical', '4': 'high' });
    assert.match(
      problem('sources:\n  a:\n    secret: s\n    severity_mapping: { High: critical }\n'),
      /sources\.a\.severity_mapping keys must be lower-case; vendor values are lower-cased before lookup/,
    );
  });

  it('keeps secrets as the UTF-8 bytes of the string', () => {
    const [source] = parse('sources:\n  a:\n    secret: "pässwörd"\n');
    assert.deepEqual(source?.secrets, [Buffer.from('pässwörd', 'utf8')]);
  });
});

describe('${VAR} expansion', () => {
  it('expands inside strings, keeps $${ as a literal ${, and leaves a lone $ alone', () => {
    const [source] = parse('sources:\n  a:\n    secret: "pre-${A}-$${B}-$C"\n    playbook: "${A}"\n', { A: 'x' });
    assert.deepEqual(source?.secrets, [Buffer.from('pre-x-${B}-$C')]);
    assert.equal(source?.playbook, 'x');
  });

  it('rejects an unterminated or invalid reference without echoing the text', () => {
    const message = problem('sources:\n  a:\n    secret: "abc${SECRET_TAIL"\n');
    assert.match(message, /sources\.a\.secret: invalid variable reference/);
    assert.doesNotMatch(message, /SECRET_TAIL/);
    assert.match(problem('sources:\n  a:\n    secret: "${1X}"\n'), /invalid variable reference/);
  });

  it('accepts a variable set to the empty string only where empty is allowed', () => {
    assert.match(problem('sources:\n  a:\n    secret: "${EMPTY}"\n', { EMPTY: '' }), /sources\.a\.secret must NOT have fewer than 1 characters/);
  });
});

describe('rejected configs', () => {
  const cases: [string, string, RegExp][] = [
    ['a source without a secret', 'sources:\n  a:\n    auto_triage: false\n', /sources\.a: missing 'secret'/],
    ['an unknown key, named', 'sources:\n  a:\n    secret: s\n    secert: t\n', /sources\.a: unknown key 'secert'/],
    ['an unknown top-level key', 'sources: {}\nsource: {}\n', /the document: unknown key 'source'/],
    ['a name that is not a DNS label', 'sources:\n  Email_Gateway:\n    secret: s\n', /source name 'Email_Gateway' must be a DNS label/],
    ['a name with a trailing dash', 'sources:\n  edr-:\n    secret: s\n', /source name 'edr-'/],
    ['a 64-character name', `sources:\n  ${'a'.repeat(64)}:\n    secret: s\n`, /must be a DNS label/],
    [
      'an unknown verification profile',
      'sources:\n  a:\n    secret: s\n    verification: none\n',
      /sources\.a\.verification must be one of hmac-sha256, standard-webhooks, hmac-body, token/,
    ],
    ['an unknown format', 'sources:\n  a:\n    secret: s\n    format: xml\n', /sources\.a\.format must be one of/],
    [
      'an unknown severity',
      'sources:\n  a:\n    secret: s\n    severity_mapping: { "5": urgent }\n',
      /sources\.a\.severity_mapping\.5 must be one of critical/,
    ],
    ['a non-boolean auto_triage', 'sources:\n  a:\n    secret: s\n    auto_triage: "yes"\n', /sources\.a\.auto_triage must be boolean/],
    ['auto_triage without a playbook', 'sources:\n  a:\n    secret: s\n    auto_triage: true\n', /sources\.a\.playbook is required when auto_triage is true/],
    ['a numeric secret (quote it)', 'sources:\n  a:\n    secret: 0123\n', /sources\.a\.secret must be string/],
    ['a tolerance below the bound', 'sources:\n  a:\n    secret: s\n    tolerance_seconds: 29\n', /sources\.a\.tolerance_seconds must be >= 30/],
    ['a fractional body limit', 'sources:\n  a:\n    secret: s\n    max_body_bytes: 1.5\n', /sources\.a\.max_body_bytes must be integer/],
    ['a zero rate', 'sources:\n  a:\n    secret: s\n    rate_limit: { requests_per_second: 0 }\n', /sources\.a\.rate_limit\.requests_per_second must be >= 1/],
    [
      'a burst below the rate',
      'sources:\n  a:\n    secret: s\n    rate_limit: { requests_per_second: 5, burst: 4 }\n',
      /sources\.a\.rate_limit\.burst must be at least rate_limit\.requests_per_second/,
    ],
    ['suspend, which the file words as enabled', 'sources:\n  a:\n    secret: s\n    suspend: true\n', /sources\.a: unknown key 'suspend'/],
    ['sources as a list', 'sources:\n  - a\n', /sources must be object or null/],
    ['a duplicate source', 'sources:\n  a: { secret: s }\n  a: { secret: t }\n', /Map keys must be unique at line 3/],
    ['broken YAML', 'sources:\n  a: { secret: s\n', /line \d+/],
  ];
  for (const [what, text, expected] of cases) {
    it(`rejects ${what}`, () => {
      const message = problem(text);
      assert.ok(message.startsWith(`${ORIGIN}: `), message);
      assert.match(message, expected);
    });
  }

  it('never puts a secret value in a message', () => {
    const message = problem('sources:\n  a:\n    secret: hunter2\n    previous_secret: 7\n    oops: 1\n');
    assert.doesNotMatch(message, /hunter2/);
  });

  it('treats a `__proto__` source name as a bad name, not a prototype', () => {
    assert.match(problem('sources:\n  __proto__: { secret: s }\n'), /source name '__proto__'/);
  });
});

describe('the bounds shared with the CRD', () => {
  for (const { what, spec, accepted, field } of SPEC_CASES) {
    it(`${accepted ? 'accepts' : 'rejects'} ${what}`, () => {
      const text = stringify({ sources: { a: { secret: 's', ...inFileWords(spec) } } });
      const result = parseWebhookConfig(text, {}, ORIGIN);
      if (accepted) assert.ok(result.ok, result.ok ? '' : result.error);
      else {
        assert.ok(!result.ok, `expected ${text} to be rejected`);
        assert.ok(result.error.includes(`sources.a.${fileKeys(field!)}`), `${result.error} does not name ${fileKeys(field!)}`);
      }
    });
  }
});

describe('filters', () => {
  it("compiles a source's filter when the file is read", () => {
    const [source] = parse('sources:\n  edr:\n    secret: s\n    filter:\n      match: payload.severity != "low"\n      labels:\n        team: \'"blue"\'\n');
    assert.deepEqual(source?.filter?.spec, { match: 'payload.severity != "low"', labels: { team: '"blue"' } });
  });

  it("fails on an expression that does not compile, with the compiler's message and where it is", () => {
    assert.equal(
      problem('sources:\n  edr:\n    secret: s\n    filter:\n      match: "payload.("\n      labels:\n        team: nope(1)\n'),
      `${ORIGIN}: sources.edr.filter.match: 1:8: found . but expecting end of input; sources.edr.filter.labels.team: unknown function 'nope'`,
    );
  });
});

describe('empty configs', () => {
  it('declares no sources for an empty file, a comment-only file or an empty sources map', () => {
    assert.deepEqual(parse(''), []);
    assert.deepEqual(parse('# nothing yet\n'), []);
    assert.deepEqual(parse('sources:\n'), []);
    assert.deepEqual(parse('sources: {}\n'), []);
  });
});
