/** The limits before a webhook's body is read, and what they are kept by, on a fixed clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SenderLimits, addressKey } from '../../../src/http/sender-limits.js';
import { testSource } from '../../helpers/source.js';

describe('limits before the body is read', () => {
  const settings = {
    preReadFactor: 4,
    addressFailures: { requestsPerSecond: 0.1, burst: 3 },
    sourceFailures: { requestsPerSecond: 1, burst: 5 },
  };
  const open = testSource({ name: 'open' });
  const limited = testSource({ name: 'limited', rateLimit: { requestsPerSecond: 1, burst: 2 } });

  it('refuses an address after its failures at a source, and no other address or source', () => {
    const limits = new SenderLimits(settings);
    for (let index = 0; index < 3; index++) {
      assert.equal(limits.admit(open, '203.0.113.7', 0), undefined);
      limits.failed(open, '203.0.113.7', 0);
    }
    assert.equal(limits.admit(open, '203.0.113.7', 0)?.reason, 'address_failures');
    assert.equal(limits.admit(open, '203.0.113.8', 0), undefined, 'another address');
    assert.equal(limits.admit(limited, '203.0.113.7', 0), undefined, 'another source');
    assert.equal(limits.admit(open, '203.0.113.7', 10_000), undefined, 'one failure refilled at 6 a minute');
  });

  it('limits IPv6 by /64: a subscriber rotating addresses in its network is one sender', () => {
    const limits = new SenderLimits(settings);
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::2', '2001:db8:1:2:abcd:1:2:3']) limits.failed(open, address, 0);
    assert.equal(limits.admit(open, '2001:db8:1:2::99', 0)?.reason, 'address_failures');
    assert.equal(limits.admit(open, '2001:db8:1:3::1', 0), undefined, 'the next /64');
  });

  it('stops strangers once a source took its failures, while a sender it knows still gets through', () => {
    const limits = new SenderLimits(settings);
    assert.equal(limits.admit(open, '192.0.2.10', 0), undefined);
    assert.ok(limits.verified(open, '192.0.2.10', 0).allowed);
    for (let index = 0; index < 5; index++) limits.failed(open, `198.51.100.${index}`, 0);
    const stranger = limits.admit(open, '198.51.100.200', 0);
    assert.equal(stranger?.reason, 'source_failures');
    assert.equal(stranger.retryAfterSeconds, 1);
    assert.equal(limits.admit(open, '192.0.2.10', 0), undefined, 'the known sender is not starved');
    assert.equal(limits.admit(open, '192.0.2.10', 60 * 60_000 + 1), undefined, 'the source refilled meanwhile');
  });

  it('gives a rate-limited source a pre-read bucket factor times its own, which known senders skip', () => {
    const limits = new SenderLimits(settings);
    let admitted = 0;
    for (let index = 0; index < 20; index++) if (limits.admit(limited, `198.51.100.${index}`, 0) === undefined) admitted++;
    assert.equal(admitted, 8, 'burst 2 × factor 4');
    assert.equal(limits.admit(limited, '198.51.100.99', 0)?.reason, 'preread_rate');
    limits.verified(limited, '192.0.2.10', 0);
    assert.equal(limits.admit(limited, '192.0.2.10', 0), undefined, 'a known sender');
    // After verification the source's own bucket applies: burst 2, one taken above.
    assert.ok(limits.verified(limited, '192.0.2.10', 0).allowed);
    assert.equal(limits.verified(limited, '192.0.2.10', 0).allowed, false);
  });

  it('forgets the buckets of sources that are gone', () => {
    const limits = new SenderLimits(settings);
    for (let index = 0; index < 3; index++) limits.failed(open, '203.0.113.7', 0);
    limits.retain(new Set(['limited']));
    assert.equal(limits.admit(open, '203.0.113.7', 0), undefined);
  });
});

describe('addressKey', () => {
  it('keeps IPv4 addresses and cuts IPv6 addresses to their /64', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('2001:0db8:0000:0000:ffff:0000:0000:0001'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('2001:db8:a:b:c:d:e:f'), '2001:db8:a:b::/64');
  });
});
