/** An event's identity (docs/api.md, "Event identity"): which key makes a redelivery the same event. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dedupeKey, idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH, type DedupeInput } from '../../src/incidents/dedupe.js';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const BODY = Buffer.from('{"event_type":"security_alert"}');

function key(overrides: Partial<DedupeInput>): string {
  const result = dedupeKey({ headers: {}, externalId: null, format: 'generic', rawBody: BODY, ...overrides });
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

describe('dedupeKey', () => {
  it('prefers the idempotency headers in order: webhook-id, svix-id, X-Webhook-Id, Idempotency-Key', () => {
    const all = { 'webhook-id': 'msg_1', 'svix-id': 'svix_1', 'x-webhook-id': 'x-1', 'idempotency-key': 'idem-1' };
    assert.equal(key({ headers: all, externalId: 'alert-1' }), 'hdr:msg_1');
    assert.equal(key({ headers: { ...all, 'webhook-id': undefined } }), 'hdr:svix_1');
    assert.equal(key({ headers: { 'x-webhook-id': 'x-1', 'idempotency-key': 'idem-1' } }), 'hdr:x-1');
    assert.equal(key({ headers: { 'idempotency-key': 'idem-1' } }), 'hdr:idem-1');
  });

  it('skips empty and repeated (array-valued) headers', () => {
    assert.equal(key({ headers: { 'webhook-id': '', 'x-webhook-id': 'x-1' } }), 'hdr:x-1');
    assert.equal(key({ headers: { 'webhook-id': ['a', 'b'] } }), `sha256:${sha256(BODY)}`);
  });

  it("falls back to the vendor's alert id, per format, then to the body's SHA-256", () => {
    assert.equal(key({ externalId: 'ldt:abc', format: 'crowdstrike' }), 'ext:crowdstrike:ldt:abc');
    assert.notEqual(key({ externalId: 'same', format: 'defender' }), key({ externalId: 'same', format: 'splunk' }));
    assert.equal(key({ externalId: '' }), `sha256:${sha256(BODY)}`, 'an empty alert id is none');
    assert.equal(key({}), `sha256:${sha256(BODY)}`);
  });

  it('keeps keys up to 128 characters as they are and hashes longer ones whole, under a prefix of their own', () => {
    const plain = 'k'.repeat(128);
    assert.equal(key({ headers: { 'webhook-id': plain } }), `hdr:${plain}`);
    const long = `${'k'.repeat(128)}-tail`;
    assert.equal(key({ headers: { 'webhook-id': long } }), `hdr#sha256:${sha256(long)}`);
    assert.notEqual(key({ headers: { 'webhook-id': `${long}-other` } }), key({ headers: { 'webhook-id': long } }), 'two long keys sharing a prefix stay two');
    const longId = 'a'.repeat(129);
    assert.equal(key({ externalId: longId, format: 'defender' }), `ext:defender#sha256:${sha256(longId)}`);
  });

  it('takes an idempotency key of 1024 characters and refuses a longer one with 400 bad_request naming the header', () => {
    const longest = 'x'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH);
    assert.equal(key({ headers: { 'x-webhook-id': longest } }), `hdr#sha256:${sha256(longest)}`);
    const refused = dedupeKey({ headers: { 'x-webhook-id': `${longest}x` }, externalId: 'alert-1', format: 'generic', rawBody: BODY });
    assert.ok(!refused.ok);
    assert.deepEqual(
      { code: refused.error.code, message: refused.error.message },
      { code: 'bad_request', message: 'The x-webhook-id header is longer than 1024 characters' },
    );
  });
});

describe('idempotencyKey', () => {
  it('is the first header that has one, or undefined', () => {
    assert.deepEqual(idempotencyKey({ 'idempotency-key': 'k' }), { ok: true, value: 'k' });
    assert.deepEqual(idempotencyKey({}), { ok: true, value: undefined });
  });
});
