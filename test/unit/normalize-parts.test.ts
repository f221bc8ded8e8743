import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyIncident } from '../../src/normalize/incident-type.js';
import { extractObservables } from '../../src/normalize/observables.js';
import { mapSeverity, numericScale } from '../../src/normalize/severity.js';
import { toIsoUtc } from '../../src/normalize/time.js';

describe('toIsoUtc', () => {
  it('reads epoch seconds and milliseconds, as numbers or strings', () => {
    assert.equal(toIsoUtc(1705320000), '2024-01-15T12:00:00.000Z');
    assert.equal(toIsoUtc(1705320000123), '2024-01-15T12:00:00.123Z');
    assert.equal(toIsoUtc('1705320000'), '2024-01-15T12:00:00.000Z');
    assert.equal(toIsoUtc('1705320000.250'), '2024-01-15T12:00:00.250Z');
  });

  it('reads ISO-8601 with any zone, and without one as UTC', () => {
    assert.equal(toIsoUtc('2024-01-15T10:00:00Z'), '2024-01-15T10:00:00.000Z');
    assert.equal(toIsoUtc('2024-01-15T10:00:00'), '2024-01-15T10:00:00.000Z');
    assert.equal(toIsoUtc('2024-01-15T10:00:00.1234567Z'), '2024-01-15T10:00:00.123Z');
    assert.equal(toIsoUtc('2024-01-15T12:00:00.000+02:00'), '2024-01-15T10:00:00.000Z');
    assert.equal(toIsoUtc('2024-01-15 05:00:00 -0500'), '2024-01-15T10:00:00.000Z');
    assert.equal(toIsoUtc('2024-01-15'), '2024-01-15T00:00:00.000Z');
  });

  it('gives null for anything that is not a real time, never throwing', () => {
    for (const value of ['2024-02-30T00:00:00Z', '2024-01-15T25:00:00Z', 'yesterday', '', 'Mon, 15 Jan 2024', 1e400, -1, NaN, 1e300,
      '9'.repeat(400), null, undefined, {}, [], true]) {
      assert.equal(toIsoUtc(value), null, String(value));
    }
  });
});

describe('mapSeverity', () => {
  const fivePoint = numericScale([[5, 'critical'], [4, 'high'], [3, 'medium'], [2, 'low'], [1, 'info']], 1, 5);

  it('uses the source mapping, then the vendor table, then the words, else medium', () => {
    assert.deepEqual(mapSeverity('High', { high: 'critical' }), { severity: 'critical', vendorSeverity: 'High' });
    assert.deepEqual(mapSeverity(4, {}, fivePoint), { severity: 'high', vendorSeverity: '4' });
    assert.deepEqual(mapSeverity(4, { '4': 'low' }, fivePoint), { severity: 'low', vendorSeverity: '4' });
    assert.deepEqual(mapSeverity(' Moderate ', {}), { severity: 'medium', vendorSeverity: 'Moderate' });
    assert.deepEqual(mapSeverity('unknown', {}), { severity: 'info', vendorSeverity: 'unknown' });
    assert.deepEqual(mapSeverity('sev-banana', {}), { severity: 'medium', vendorSeverity: 'sev-banana' });
    assert.deepEqual(mapSeverity(9, {}, fivePoint), { severity: 'medium', vendorSeverity: '9' });
    assert.deepEqual(mapSeverity(undefined, {}), { severity: 'medium', vendorSeverity: null });
    assert.deepEqual(mapSeverity({ level: 'high' }, {}), { severity: 'medium', vendorSeverity: null });
  });

  it('maps the Falcon 0–100 scale by thresholds', () => {
    const hundred = numericScale([[90, 'critical'], [70, 'high'], [40, 'medium'], [20, 'low'], [0, 'info']], 0, 100);
    assert.deepEqual([95, 70, 69, 40, 20, 19, 0].map((value) => mapSeverity(value, {}, hundred).severity),
      ['critical', 'high', 'medium', 'medium', 'low', 'info', 'info']);
  });
});

describe('classifyIncident', () => {
  it('takes the first candidate that names a type, in the given order', () => {
    assert.equal(classifyIncident(['Phish'], 'other'), 'phishing');
    assert.equal(classifyIncident(['InitialAccess'], 'other'), 'intrusion');
    assert.equal(classifyIncident(['Credential Access'], 'other'), 'authentication');
    assert.equal(classifyIncident([undefined, 'Failed Login Alert'], 'other'), 'authentication');
    assert.equal(classifyIncident(['Email reported by user as malware or phish'], 'other'), 'phishing');
    assert.equal(classifyIncident(['Overwatch Detection', 'Ransomware'], 'malware'), 'malware');
    assert.equal(classifyIncident(['Data exfiltration to USB'], 'other'), 'data_exfiltration');
    assert.equal(classifyIncident(['security_alert'], 'other'), 'other');
  });
});

describe('extractObservables', () => {
  it('takes known fields first, then hosts and users by key, hashes under hash keys, and ips, emails, urls anywhere', () => {
    const observables = extractObservables(
      {
        src: '192.0.2.1',
        dest: 'db-01',
        user_name: 'alice',
        aid: '4f2c1d0e9b8a47c6a5d4e3f2a1b0c9d8',
        file_md5: 'D41D8CD98F00B204E9800998ECF8427E',
        message: 'login from 2001:db8::1 by <Bob@Example.COM>, see https://evil.example/x?a=1. Also mailto:c@example.org',
        nested: [{ deeper: ['198.51.100.7', 'not-an-ip 999.1.1.1'] }],
      },
      { hosts: ['known-host'], users: ['known-user', 42] },
    );
    assert.deepEqual(observables, {
      hosts: ['known-host', 'db-01'],
      users: ['known-user', 'alice'],
      emails: ['bob@example.com', 'c@example.org'],
      ips: ['192.0.2.1', '2001:db8::1', '198.51.100.7'],
      hashes: ['d41d8cd98f00b204e9800998ecf8427e'],
      urls: ['https://evil.example/x?a=1'],
    });
  });

  it('drops invalid values, placeholders, duplicates and non-http urls', () => {
    const observables = extractObservables({
      host: 'bad host name',
      hostname: 'n/a',
      user: ['-', 'bob', 'bob'],
      sha256: 'zz'.repeat(32),
      text: 'javascript:alert(1) ftp://files.example/x http://',
    });
    assert.deepEqual(observables, { hosts: [], users: ['bob'], emails: [], ips: [], hashes: [], urls: [] });
  });
});
