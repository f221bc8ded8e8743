import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { classifyIncident } from '../../../src/normalize/incident-type.js';
import { MitreCollector } from '../../../src/normalize/mitre.js';
import { ObservableCollector } from '../../../src/normalize/observables.js';
import { mapSeverity, numericScale } from '../../../src/normalize/severity.js';
import { toIsoUtc } from '../../../src/normalize/time.js';

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
    for (const value of [
      '2024-02-30T00:00:00Z',
      '2024-01-15T25:00:00Z',
      'yesterday',
      '',
      'Mon, 15 Jan 2024',
      // eslint-disable-next-line no-loss-of-precision -- a literal beyond a double's range is the input under test
      1e400,
      -1,
      NaN,
      1e300,
      '9'.repeat(400),
      null,
      undefined,
      {},
      [],
      true,
    ]) {
      assert.equal(toIsoUtc(value), null, inspect(value));
    }
  });
});

describe('mapSeverity', () => {
  const fivePoint = numericScale(
    [
      [5, 'critical'],
      [4, 'high'],
      [3, 'medium'],
      [2, 'low'],
      [1, 'info'],
    ],
    1,
    5,
  );

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
    const hundred = numericScale(
      [
        [90, 'critical'],
        [70, 'high'],
        [40, 'medium'],
        [20, 'low'],
        [0, 'info'],
      ],
      0,
      100,
    );
    assert.deepEqual(
      [95, 70, 69, 40, 20, 19, 0].map((value) => mapSeverity(value, {}, hundred).severity),
      ['critical', 'high', 'medium', 'medium', 'low', 'info', 'info'],
    );
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

  it('lets a later, more specific candidate win over "suspicious"', () => {
    assert.equal(classifyIncident(['Suspicious credential theft activity', 'CredentialAccess'], 'other'), 'authentication');
    assert.equal(classifyIncident(['Suspicious PowerShell command line', 'Execution'], 'other'), 'suspicious_activity');
    assert.equal(classifyIncident(['Suspicious activity'], 'malware'), 'suspicious_activity');
  });
});

const empty = { hosts: [], users: [], emails: [], ips: [], hashes: [], urls: [], domains: [], processes: [], files: [], md5: [], sha1: [], sha256: [] };

describe('ObservableCollector', () => {
  it('takes mapped fields first, then hosts, users, files, processes and domains by key, hashes under hash keys, and ips, emails, urls anywhere', () => {
    const found = new ObservableCollector();
    found.addFields({ Host: 'known-host', Who: ['known-user', 42] }, { Host: 'hosts', Who: 'users' });
    found.walk({
      src: '192.0.2.1',
      dest: 'db-01',
      user_name: 'alice',
      aid: '4f2c1d0e9b8a47c6a5d4e3f2a1b0c9d8',
      file_md5: 'D41D8CD98F00B204E9800998ECF8427E',
      file_hash: 'a'.repeat(40),
      process_name: 'rundll32.exe',
      file_path: '/tmp/x.sh',
      query: 'C2.Example.NET.',
      message: 'login from 2001:db8::1 by <Bob@Example.COM>, see https://evil.example/x?a=1. Also mailto:c@example.org',
      nested: [{ deeper: ['198.51.100.7', 'not-an-ip 999.1.1.1'] }],
    });
    assert.deepEqual(found.result(), {
      ...empty,
      hosts: ['known-host', 'db-01'],
      users: ['known-user', 'alice'],
      emails: ['bob@example.com', 'c@example.org'],
      ips: ['192.0.2.1', '2001:db8::1', '198.51.100.7'],
      hashes: ['d41d8cd98f00b204e9800998ecf8427e', 'a'.repeat(40)],
      md5: ['d41d8cd98f00b204e9800998ecf8427e'],
      sha1: ['a'.repeat(40)],
      urls: ['https://evil.example/x?a=1'],
      domains: ['c2.example.net'],
      processes: ['rundll32.exe'],
      files: ['/tmp/x.sh'],
    });
  });

  it('drops invalid values, placeholders, duplicates, non-http urls, API links and private-use keys', () => {
    const found = new ObservableCollector();
    found.walk({
      host: 'bad host name',
      hostname: 'n/a',
      user: ['-', 'bob', 'bob'],
      sha256: 'zz'.repeat(32),
      text: 'javascript:alert(1) ftp://files.example/x http://',
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2/$entity',
      note: 'see https://graph.microsoft.com/v1.0/$metadata#x',
      _raw: 'src=203.0.113.9',
      results_link: 'https://splunk.example/app/search/@go?sid=1',
      FalconHostLink: 'https://falcon.example/x',
      alertWebUrl: 'https://security.example/alerts/1',
      AlertLinks: [{ AlertLinkHref: 'https://security.example/viewalerts' }],
    });
    assert.deepEqual(found.result(), { ...empty, users: ['bob'] });
  });

  it('types a digest by the algorithm the vendor names, and refuses one whose length disagrees', () => {
    const found = new ObservableCollector();
    found.add('sha256', 'b'.repeat(64));
    found.add('sha1', 'c'.repeat(64));
    found.add('md5', '0'.repeat(32));
    found.add('hash', 'd'.repeat(32));
    assert.deepEqual(found.result(), { ...empty, hashes: ['b'.repeat(64), 'd'.repeat(32)], sha256: ['b'.repeat(64)], md5: ['d'.repeat(32)] });
  });

  it("joins directory and name with the directory's separator, once", () => {
    const found = new ObservableCollector();
    found.addPath('files', 'C:\\Temp', 'a.exe');
    found.addPath('files', '/opt/bin/', 'tool');
    found.addPath('files', 'C:\\Temp\\b.dll', 'b.dll');
    found.addPath('processes', undefined, 'cmd.exe');
    found.addPath('processes', null, 42);
    assert.deepEqual(found.result(), { ...empty, files: ['C:\\Temp\\a.exe', '/opt/bin/tool', 'C:\\Temp\\b.dll'], processes: ['cmd.exe'] });
  });

  it('reads an IPv4 address with a port, as identity events send it', () => {
    const found = new ObservableCollector();
    found.add('ips', ['192.0.2.5:445', '2001:db8::5', '192.0.2.300:1']);
    assert.deepEqual(found.result().ips, ['192.0.2.5', '2001:db8::5']);
  });
});

describe('MitreCollector', () => {
  it('keeps tactic and technique ids, maps Enterprise tactic names, and drops anything else', () => {
    const mitre = new MitreCollector();
    mitre.tactic(['ta0002', 'Credential Access', 'credential-access', 'CommandAndControl', 'Malware', 'TA12', 42]);
    mitre.technique(['t1059.001', 'T1003', 'T1003', 'OS Credential Dumping', 'T1059.1', { id: 'T1000' }]);
    assert.deepEqual(mitre.result(), { tactics: ['TA0002', 'TA0006', 'TA0011'], techniques: ['T1059.001', 'T1003'] });
  });
});
