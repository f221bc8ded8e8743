import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientAddress } from '../../../src/http/client-address.js';
import { parseTrustedProxies } from '../../../src/config/trusted-proxies.js';
import { ConfigError } from '../../../src/config/config-error.js';

describe('clientAddress', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
  const none = parseTrustedProxies([]);

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddress('127.0.0.1', '6.6.6.6', none), '127.0.0.1');
    assert.equal(clientAddress('::ffff:127.0.0.1', undefined, none), '127.0.0.1');
  });

  it('walks X-Forwarded-For back through trusted proxies only', () => {
    assert.equal(clientAddress('10.1.2.3', '203.0.113.7', trusted), '203.0.113.7');
    assert.equal(clientAddress('10.1.2.3', '6.6.6.6, 203.0.113.7, 192.0.2.1', trusted), '203.0.113.7');
    assert.equal(clientAddress('fd00::1', '2001:db8::5', trusted), '2001:db8::5');
    assert.equal(clientAddress('10.1.2.3', ['198.51.100.1', '10.9.9.9'], trusted), '198.51.100.1');
  });

  it('records only IP addresses: a garbled hop ends the walk at the last address', () => {
    assert.equal(clientAddress('10.1.2.3', '<script>alert(1)</script>', trusted), '10.1.2.3');
    assert.equal(clientAddress('10.1.2.3', `203.0.113.7, ${'x'.repeat(3000)}`, trusted), '10.1.2.3');
    assert.equal(clientAddress(undefined, '203.0.113.7', trusted), null);
  });
});

describe('parseTrustedProxies', () => {
  it('takes IPv4 and IPv6 CIDRs and single addresses', () => {
    const list = parseTrustedProxies(['10.0.0.0/8', '::1', '2001:db8::/32']);
    assert.ok(list.check('10.200.0.1', 'ipv4'));
    assert.ok(list.check('::1', 'ipv6'));
    assert.ok(list.check('2001:db8:1::1', 'ipv6'));
    assert.ok(!list.check('11.0.0.1', 'ipv4'));
  });

  it('refuses what is not a CIDR, naming the variable', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::/129', '10.0.0.0/x']) {
      assert.throws(
        () => parseTrustedProxies([bad]),
        (error: unknown) => error instanceof ConfigError && /TW_TRUSTED_PROXIES/.test(error.message),
      );
    }
  });
});
