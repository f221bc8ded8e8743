/** An event's identity (docs/api.md, "Event identity"): which key makes a redelivery the same event. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkedEventId, dedupeKey, type DedupeInput } from '../../../src/incidents/dedupe.js';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const BODY = Buffer.from('{"event_type":"security_alert"}');

function key(overrides: Partial<DedupeInput>): string {
  const result = dedupeKey({ signedId: undefined, externalId: null, format: 'generic', rawBody: BODY, ...overrides });
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

describe('dedupeKey', () => {
  it('prefers the signed event id over the alert id and the body', () => {
    assert.equal(key({ signedId: 'msg_1', externalId: 'alert-1' }), 'hdr:msg_1');
    assert.equal(key({ signedId: '', externalId: 'alert-1', format: 'defender' }), 'ext:defender:alert-1', 'an empty signed id is none');
  });

  it("falls back to the vendor's alert id, per format, then to the body's SHA-256", () => {
    assert.equal(key({ externalId: 'ldt:abc', format: 'crowdstrike' }), 'ext:crowdstrike:ldt:abc');
    assert.notEqual(key({ externalId: 'same', format: 'defender' }), key({ externalId: 'same', format: 'splunk' }));
    assert.equal(key({ externalId: '' }), `sha256:${sha256(BODY)}`, 'an empty alert id is none');
    assert.equal(key({}), `sha256:${sha256(BODY)}`);
    assert.notEqual(key({ rawBody: Buffer.from('{}') }), key({}), 'another body is another event');
  });

  it('keeps keys up to 128 characters as they are and hashes longer ones whole, under a prefix of their own', () => {
    const plain = 'k'.repeat(128);
    assert.equal(key({ signedId: plain }), `hdr:${plain}`);
    const long = `${'k'.repeat(128)}-tail`;
    assert.equal(key({ signedId: long }), `hdr#sha256:${sha256(long)}`);
    assert.notEqual(key({ signedId: `${long}-other` }), key({ signedId: long }), 'two long keys sharing a prefix stay two');
    const longId = 'a'.repeat(129);
    assert.equal(key({ externalId: longId, format: 'defender' }), `ext:defender#sha256:${sha256(longId)}`);
  });

  it('takes a signed id of 1024 characters and refuses a longer one with 400 bad_request', () => {
    const longest = 'x'.repeat(1024);
    assert.equal(key({ signedId: longest }), `hdr#sha256:${sha256(longest)}`);
    const refused = dedupeKey({ signedId: `${longest}x`, externalId: 'alert-1', format: 'generic', rawBody: BODY });
    assert.ok(!refused.ok);
    assert.deepEqual(
      { code: refused.error.code, message: refused.error.message },
      { code: 'bad_request', message: 'The signed event id is longer than 1024 characters' },
    );
  });
});

describe('checkedEventId', () => {
  it('is the id, or undefined for none or an empty one', () => {
    assert.deepEqual(checkedEventId('k'), { ok: true, value: 'k' });
    assert.deepEqual(checkedEventId(undefined), { ok: true, value: undefined });
    assert.deepEqual(checkedEventId(''), { ok: true, value: undefined });
  });
});
