import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto, { createHmac } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, mock } from 'node:test';
import { signedEventId, signedIdHeader, verifyRequest, type VerifiableRequest, type Verdict } from '../../../src/verify/index.js';
import { signedHeaders } from '../../../src/verify/sign.js';
import { isWeakSecret, MIN_SECRET_BYTES } from '../../../src/verify/secret-strength.js';
import { parseSignatureHeader } from '../../../src/verify/signature-header.js';
import { describeTolerance } from '../../../src/verify/timestamp.js';
import type { Source, VerificationProfile } from '../../../src/sources/source.js';
import { testSource } from '../../helpers/source.js';

const NOW = 1_705_320_000;
const BODY = '{"event_type":"test","data":{}}';

function source(verification: VerificationProfile, ...secrets: string[]): Source {
  return testSource({ name: 'email-gateway', verification, secrets: secrets.map((secret) => Buffer.from(secret)) });
}

function request(headers: VerifiableRequest['headers'], body = BODY, query = ''): VerifiableRequest {
  return { headers, query: new URLSearchParams(query), rawBody: Buffer.from(body) };
}

const hexHmac = (secret: string | Buffer, content: string) => createHmac('sha256', secret).update(content).digest('hex');

/** Default profile: verify a delivery carrying `timestamp` and `signature` headers. */
function verifyDefault(timestamp: string | undefined, signature: string | undefined, options: { now?: number; body?: string; secrets?: string[] } = {}) {
  const headers = { 'x-webhook-timestamp': timestamp, 'x-webhook-signature': signature };
  return verifyRequest(source('hmac-sha256', ...(options.secrets ?? ['your-secret'])), request(headers, options.body), options.now ?? NOW);
}

const signed = (timestamp: number | string = NOW, secret = 'your-secret', body = BODY) => `sha256=${hexHmac(secret, `${timestamp}.${body}`)}`;
const OK = { ok: true };
/** A signature failure: the spec's message, then which check failed. */
function assertBadSignature(verdict: Verdict, reason: RegExp = /./, context?: string): void {
  assert.equal(verdict.ok, false, context);
  assert.equal((verdict as { code: string }).code, 'invalid_signature', context);
  assert.match((verdict as { message: string }).message, /^Webhook signature verification failed: /, context);
  assert.match((verdict as { message: string }).message, reason, context);
}

describe('hmac-sha256: the spec profile', () => {
  it("accepts the spec's 'Send Test Event' recipe verbatim (bash + openssl)", () => {
    // The three lines of the spec, unchanged; curl would send exactly these header values and body.
    const script = [
      'TIMESTAMP=$(date +%s)',
      `BODY='{"event_type":"test","data":{}}'`,
      'SIGNATURE=$(echo -n "${TIMESTAMP}.${BODY}" | openssl dgst -sha256 -hmac "your-secret")',
      'printf "%s\\n%s\\n%s" "${TIMESTAMP}" "${BODY}" "sha256=${SIGNATURE}"',
    ].join('\n');
    const [timestamp, body, signature] = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n');
    assert.match(signature!, /^sha256=\S*\(stdin\)= [0-9a-f]{64}$/, 'OpenSSL prints its labelled form, space included');
    assert.deepEqual(verifyDefault(timestamp, signature, { body, now: Math.floor(Date.now() / 1000) }), OK);
  });

  it('accepts the bare hex digest in either case', () => {
    assert.deepEqual(verifyDefault(String(NOW), signed()), OK);
    assert.deepEqual(verifyDefault(String(NOW), signed().toUpperCase()), OK);
  });

  it('accepts every OpenSSL output form of a SHA-256 HMAC', () => {
    const hex = hexHmac('your-secret', `${NOW}.${BODY}`);
    for (const label of ['SHA2-256', '', 'SHA256', 'HMAC-SHA256', 'HMAC-SHA2-256']) {
      assert.deepEqual(verifyDefault(String(NOW), `sha256=${label}(stdin)= ${hex}`), OK, label);
    }
  });

  it('rejects digests that are not exactly 64 hex digits, and other algorithms', () => {
    const hex = hexHmac('your-secret', `${NOW}.${BODY}`);
    for (const signature of [
      `sha256=${hex.slice(1)}`,
      `sha256=${hex}0`,
      `sha256=${hex.slice(1)}g`,
      `sha1=${hex}`,
      hex,
      `sha256=SHA3-256(stdin)= ${hex}`,
      `sha256=MD5(stdin)= ${hex}`,
      `sha256= ${hex}`,
      'sha256=',
      '',
      undefined,
    ]) {
      assertBadSignature(verifyDefault(String(NOW), signature), /./, String(signature));
    }
  });

  it('rejects a signature over other bytes, another timestamp or another secret', () => {
    assertBadSignature(verifyDefault(String(NOW), signed(), { body: `${BODY} ` }));
    assertBadSignature(verifyDefault(String(NOW), signed(NOW - 1)));
    assertBadSignature(verifyDefault(String(NOW), signed(NOW, 'other-secret')));
  });

  it('accepts any of several signatures separated by commas or whitespace (sender-side rotation)', () => {
    const wrong = signed(NOW, 'old-sender-secret');
    const right = signed();
    const openssl = `sha256=SHA2-256(stdin)= ${hexHmac('your-secret', `${NOW}.${BODY}`)}`;
    for (const header of [
      `${wrong},${right}`,
      `${wrong}, ${right}`,
      `${wrong} ${right}`,
      `${right}\t${wrong}`,
      `${wrong}, ${openssl}`,
      `${openssl} ${wrong}`,
    ]) {
      assert.deepEqual(verifyDefault(String(NOW), header), OK, header);
    }
  });

  it('considers at most 8 signatures', () => {
    const wrong = Array.from({ length: 7 }, () => signed(NOW, 'nope'));
    assert.deepEqual(verifyDefault(String(NOW), [...wrong, signed()].join(',')), OK);
    assertBadSignature(verifyDefault(String(NOW), [...wrong, 'sha256=x', signed()].join(',')));
  });

  it('accepts the current and the previous secret (receiver-side rotation)', () => {
    const secrets = ['new-secret', 'old-secret'];
    assert.deepEqual(verifyDefault(String(NOW), signed(NOW, 'new-secret'), { secrets }), OK);
    assert.deepEqual(verifyDefault(String(NOW), signed(NOW, 'old-secret'), { secrets }), OK);
    assertBadSignature(verifyDefault(String(NOW), signed(NOW, 'older-secret'), { secrets }));
  });

  it('reads repeated headers the way node joins them', () => {
    const headers = { 'x-webhook-timestamp': String(NOW), 'x-webhook-signature': [signed(NOW, 'nope'), signed()] };
    assert.deepEqual(verifyRequest(source('hmac-sha256', 'your-secret'), request(headers), NOW), OK);
  });

  it('compares digests with crypto.timingSafeEqual', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      assert.deepEqual(verifyDefault(String(NOW), signed()), OK);
      assert.equal(spy.mock.callCount(), 1);
      assert.equal(spy.mock.calls[0]!.arguments[0].byteLength, 32);
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});

describe('hmac-sha256: timestamps, checked before the signature', () => {
  const invalid = { ok: false, code: 'invalid_timestamp', message: 'X-Webhook-Timestamp must be a Unix time in whole seconds' };

  it('rejects a missing or malformed timestamp as invalid_timestamp', () => {
    for (const timestamp of ['12a', '1.5', '-5', '1e3', '+1705320000', '0x10', ' 1705320000', '99999999999999999999']) {
      assert.deepEqual(verifyDefault(timestamp, signed(timestamp)), invalid, String(timestamp));
    }
    for (const timestamp of [undefined, '', '  ']) {
      assert.deepEqual(
        verifyDefault(timestamp, signed(timestamp ?? '')),
        { ...invalid, message: 'the X-Webhook-Timestamp header is missing' },
        String(timestamp),
      );
    }
  });

  it('accepts a timestamp exactly the tolerance old and rejects one a second older as timestamp_expired', () => {
    const edge = NOW - 300;
    assert.deepEqual(verifyDefault(String(edge), signed(edge)), OK);
    assert.deepEqual(verifyDefault(String(edge - 1), signed(edge - 1)), {
      ok: false,
      code: 'timestamp_expired',
      message: 'Webhook timestamp is too old (>5 minutes)',
    });
  });

  it('accepts a timestamp exactly the tolerance ahead and rejects one a second further as invalid_timestamp', () => {
    const edge = NOW + 300;
    assert.deepEqual(verifyDefault(String(edge), signed(edge)), OK);
    assert.deepEqual(verifyDefault(String(edge + 1), signed(edge + 1)), {
      ok: false,
      code: 'invalid_timestamp',
      message: 'Webhook timestamp is too far in the future (>5 minutes)',
    });
    assert.equal(verifyDefault('999999999999999', signed('999999999999999')).ok, false);
  });

  it('recognizes milliseconds up to exactly the tolerance away once divided by 1000', () => {
    const edgeMs = (NOW - 300) * 1000;
    assert.deepEqual(verifyDefault(String(edgeMs), signed(edgeMs)), {
      ok: false,
      code: 'invalid_timestamp',
      message: `X-Webhook-Timestamp is in milliseconds: send whole seconds (${NOW - 300})`,
    });
    const beyond = (NOW - 301) * 1000;
    assert.equal((verifyDefault(String(beyond), signed(beyond)) as { code: string }).code, 'invalid_timestamp');
    assert.doesNotMatch((verifyDefault(String(beyond), signed(beyond)) as { message: string }).message, /milliseconds/);
  });

  it("renders the source's own tolerance in the message", () => {
    const tolerant = { ...source('hmac-sha256', 'your-secret'), toleranceSeconds: 90 };
    const old = NOW - 91;
    const verdict = verifyRequest(tolerant, request({ 'x-webhook-timestamp': String(old), 'x-webhook-signature': signed(old) }), NOW);
    assert.deepEqual(verdict, { ok: false, code: 'timestamp_expired', message: 'Webhook timestamp is too old (>90 seconds)' });
  });

  it('words tolerances in whole minutes when they divide evenly, else in seconds', () => {
    assert.equal(describeTolerance(300), '5 minutes');
    assert.equal(describeTolerance(3600), '60 minutes');
    assert.equal(describeTolerance(60), '1 minute');
    assert.equal(describeTolerance(90), '90 seconds');
    assert.equal(describeTolerance(1), '1 second');
  });

  it('reports the timestamp problem even when the signature is also wrong', () => {
    const malformed = verifyDefault('12a', 'sha256=nope');
    assert.equal(malformed.ok === false && malformed.code, 'invalid_timestamp');
    const old = verifyDefault(String(NOW - 301), 'sha256=nope');
    assert.equal(old.ok === false && old.code, 'timestamp_expired');
  });
});

describe('signature header parsing', () => {
  it('yields one 32-byte digest per well-formed signature and skips the rest', () => {
    const hex = 'ab'.repeat(32);
    assert.deepEqual(parseSignatureHeader(`sha256=${hex}, junk sha256=(stdin)= ${hex}`), [Buffer.from(hex, 'hex'), Buffer.from(hex, 'hex')]);
    assert.deepEqual(parseSignatureHeader(',,, '), []);
    assert.deepEqual(parseSignatureHeader(Array(9).fill(`sha256=${hex}`).join(',')), []);
  });

  it('matches an entry whole: nothing before sha256=, exactly 64 digits, the space after (stdin)= optional', () => {
    const hex = 'ab'.repeat(32);
    assert.deepEqual(parseSignatureHeader(`xsha256=${hex}`), []);
    assert.deepEqual(parseSignatureHeader(`sha256=${hex}0`), []);
    assert.deepEqual(parseSignatureHeader(`sha256=(stdin)=${hex}`), [Buffer.from(hex, 'hex')]);
    assert.deepEqual(parseSignatureHeader(`sha256=SHA2-256(stdin)= ${hex}`), [Buffer.from(hex, 'hex')]);
  });

  it('takes up to eight signatures, the last of eight included, and none of nine', () => {
    const wrong = `sha256=${'00'.repeat(32)}`;
    const eight = [...Array(7).fill(wrong), signed()].join(', ');
    assert.deepEqual(verifyDefault(String(NOW), eight), OK);
    assertBadSignature(verifyDefault(String(NOW), `${wrong}, ${eight}`), /holds more than 8 signatures/);
    assert.deepEqual(verifyDefault(String(NOW), ` ${eight} `), OK, 'whitespace around the header is not an entry');
    assertBadSignature(verifyDefault(String(NOW), Array(8).fill('sha256=nope').join(', ')), /X-Webhook-Signature is not /);
    assertBadSignature(verifyDefault(String(NOW), ` ${Array(8).fill('sha256=nope').join(' ,  ')} `), /X-Webhook-Signature is not /);
  });

  it('tells a digest sent without its prefix apart from an entry that only ends in 64 hex digits', () => {
    const digest = hexHmac('your-secret', `${NOW}.${BODY}`);
    assertBadSignature(verifyDefault(String(NOW), `junk ${digest}`), /needs the sha256= prefix/);
    assertBadSignature(verifyDefault(String(NOW), `md5=${digest}`), /X-Webhook-Signature is not /);
    assertBadSignature(verifyDefault(String(NOW), `${digest}00`), /X-Webhook-Signature is not /);
    assertBadSignature(verifyDefault(String(NOW), '   '), /the X-Webhook-Signature header is missing/);
  });
});

describe('standard-webhooks profile', () => {
  // The test vector of the Standard Webhooks reference libraries.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1_614_265_330;
  const body = '{"test": 2432232314}';
  const signature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  const verify = (headers: Record<string, string | undefined>, secrets = [secret], now = timestamp) =>
    verifyRequest(
      source('standard-webhooks', ...secrets),
      request({ 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature, ...headers }, body),
      now,
    );

  it('accepts the reference test vector with a whsec_ secret', () => {
    assert.deepEqual(verify({}), OK);
  });

  it('accepts one matching entry among several, ignoring v1a and malformed ones', () => {
    assert.deepEqual(verify({ 'webhook-signature': `v1a,AAAA v1,${'A'.repeat(43)}= v1,short ${signature}` }), OK);
  });

  it('accepts the previous secret and uses a secret without whsec_ as raw bytes', () => {
    assert.deepEqual(verify({}, ['whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', secret]), OK);
    const raw = createHmac('sha256', 'plain-secret').update(`${id}.${timestamp}.${body}`).digest('base64');
    assert.deepEqual(verify({ 'webhook-signature': `v1,${raw}` }, ['plain-secret']), OK);
  });

  it('rejects a missing or different webhook-id, and a missing signature', () => {
    assertBadSignature(verify({ 'webhook-id': undefined }));
    assertBadSignature(verify({ 'webhook-id': 'msg_other' }));
    assertBadSignature(verify({ 'webhook-signature': undefined }));
  });

  it("accepts the same delivery under Svix's names (svix-id, svix-timestamp, svix-signature)", () => {
    const svix = { 'svix-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': signature };
    assert.deepEqual(verifyRequest(source('standard-webhooks', secret), request(svix, body), timestamp), OK);
    assert.deepEqual(verifyRequest(source('standard-webhooks', secret), request({ ...svix, 'svix-id': 'msg_other' }, body), timestamp), {
      ok: false,
      code: 'invalid_signature',
      message:
        "Webhook signature verification failed: svix-signature matches none of the source's secrets (it must be the HMAC-SHA256 of '<svix-id>.<svix-timestamp>.<raw body>' with the secret, in base64; a whsec_ secret is the base64 key after the prefix)",
    });
    assert.deepEqual(verifyRequest(source('standard-webhooks', secret), request({ ...svix, 'svix-timestamp': 'soon' }, body), timestamp), {
      ok: false,
      code: 'invalid_timestamp',
      message: 'svix-timestamp must be a Unix time in whole seconds',
    });
  });

  it('reads one spelling, never a mix: any webhook-* header means all three are read under that name', () => {
    const mixed = { 'webhook-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': signature };
    assert.deepEqual(verifyRequest(source('standard-webhooks', secret), request(mixed, body), timestamp), {
      ok: false,
      code: 'invalid_timestamp',
      message: 'the webhook-timestamp header is missing',
    });
    const none = verifyRequest(source('standard-webhooks', secret), request({}, body), timestamp);
    assert.equal(none.ok === false && none.message, 'the webhook-timestamp header is missing');
  });

  it('applies the timestamp checks to webhook-timestamp', () => {
    assert.deepEqual(verify({ 'webhook-timestamp': 'soon' }), {
      ok: false,
      code: 'invalid_timestamp',
      message: 'webhook-timestamp must be a Unix time in whole seconds',
    });
    const late = verify({}, [secret], timestamp + 301);
    assert.equal(late.ok === false && late.code, 'timestamp_expired');
  });
});

describe('hmac-body profile (X-Hub-Signature-256)', () => {
  // GitHub's documented example delivery.
  const verify = (signature: string | undefined, body = 'Hello, World!') =>
    verifyRequest(source('hmac-body', "It's a Secret to Everybody"), request({ 'x-hub-signature-256': signature }, body), NOW);

  it("accepts GitHub's documented example, with no timestamp involved", () => {
    assert.deepEqual(verify('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'), OK);
  });

  it('rejects another body, a malformed or a missing signature', () => {
    assertBadSignature(verify('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', 'Hello, World?'));
    assertBadSignature(verify('sha1=757107ea0eb2509fc211221cce984b8a37570b6d'));
    assertBadSignature(verify(undefined));
  });
});

describe('token profile', () => {
  const verify = (headers: VerifiableRequest['headers'], query = '') =>
    verifyRequest(source('token', 'tok-current', 'tok-previous'), request(headers, BODY, query), NOW);

  it('accepts the token as a Bearer header, X-Webhook-Token, Webhook-AuthID or ?token=', () => {
    assert.deepEqual(verify({ authorization: 'Bearer tok-current' }), OK);
    assert.deepEqual(verify({ authorization: 'bearer tok-previous' }), OK);
    assert.deepEqual(verify({ 'x-webhook-token': 'tok-current' }), OK);
    assert.deepEqual(verify({ 'webhook-authid': 'tok-current' }), OK);
    assert.deepEqual(verify({}, 'token=tok-current'), OK);
  });

  it('rejects a wrong, partial or absent token', () => {
    assertBadSignature(verify({ authorization: 'Bearer tok-curren' }));
    assertBadSignature(verify({ authorization: 'Basic tok-current' }));
    assertBadSignature(verify({ 'x-webhook-token': 'tok-current-and-more' }));
    assertBadSignature(verify({}, 'token='));
    assertBadSignature(verify({}));
  });

  it('compares hashes of equal length in constant time', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      assertBadSignature(verify({ 'x-webhook-token': 'x' }));
      assert.equal(spy.mock.callCount(), 2, 'one comparison per secret');
      for (const call of spy.mock.calls)
        assert.deepEqual(
          call.arguments.map((buffer) => buffer.byteLength),
          [32, 32],
        );
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});

describe('a rejected signature says which check failed, and nothing about the secret', () => {
  const message = (verdict: Verdict) => (verdict.ok ? 'verified' : `${verdict.code}: ${verdict.message}`);
  const SECRET = 'your-secret';

  it('hmac-sha256: header missing, prefix missing, malformed, no secret matched; timestamp missing or in milliseconds', () => {
    const digest = hexHmac(SECRET, `${NOW}.${BODY}`);
    const cases: [string | undefined, string | undefined, RegExp][] = [
      [String(NOW), undefined, /^invalid_signature: .*: the X-Webhook-Signature header is missing$/],
      [String(NOW), digest, /: X-Webhook-Signature needs the sha256= prefix \(sha256=<64 hex digits>\)$/],
      [String(NOW), 'sha256=abc', /: X-Webhook-Signature is not sha256=<64 hex digits>$/],
      [
        String(NOW),
        `sha256=${hexHmac('other', `${NOW}.${BODY}`)}`,
        /: X-Webhook-Signature matches none of the source's secrets \(it must be the HMAC-SHA256 of '<X-Webhook-Timestamp>\.<raw body>' with the secret\)$/,
      ],
      [undefined, `sha256=${digest}`, /^invalid_timestamp: the X-Webhook-Timestamp header is missing$/],
      [
        String(NOW * 1000 + 123),
        `sha256=${digest}`,
        new RegExp(`^invalid_timestamp: X-Webhook-Timestamp is in milliseconds: send whole seconds \\(${NOW}\\)$`),
      ],
    ];
    for (const [timestamp, signature, expected] of cases) {
      const text = message(verifyDefault(timestamp, signature));
      assert.match(text, expected, `${timestamp} ${signature}`);
      assert.ok(!text.includes(SECRET) && !text.includes(digest.slice(0, 16)), 'no secret, no expected digest');
    }
  });

  it('the other profiles name their own headers', () => {
    const hub = verifyRequest(source('hmac-body', SECRET), request({}), NOW);
    assert.match(message(hub), /: the X-Hub-Signature-256 header is missing$/);
    const standard = verifyRequest(source('standard-webhooks', SECRET), request({ 'webhook-timestamp': String(NOW), 'webhook-signature': 'v1,x' }), NOW);
    assert.match(message(standard), /: the webhook-id header is missing/);
    const malformed = verifyRequest(
      source('standard-webhooks', SECRET),
      request({ 'webhook-id': 'm', 'webhook-timestamp': String(NOW), 'webhook-signature': 'v1,x' }),
      NOW,
    );
    assert.match(message(malformed), /: webhook-signature is not v1,<base64 of 32 bytes>$/);
    assert.match(
      message(verifyRequest(source('token', SECRET), request({}), NOW)),
      /: no token: send it as Authorization: Bearer <token>, X-Webhook-Token, Webhook-AuthID or \?token=$/,
    );
    assert.match(
      message(verifyRequest(source('token', SECRET), request({ 'x-webhook-token': 'nope' }), NOW)),
      /: the token matches none of the source's secrets$/,
    );
  });
});

describe("each profile's own signer (the test endpoint's), against its verifier", () => {
  const PROFILES: VerificationProfile[] = ['hmac-sha256', 'standard-webhooks', 'hmac-body', 'token'];
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = Buffer.from(BODY);

  for (const profile of PROFILES) {
    it(`${profile}: signed headers verify, and only for this secret${profile === 'token' ? '' : ' and body'}`, () => {
      // As node hands them over: names lower-cased.
      const headers = Object.fromEntries(
        Object.entries(signedHeaders(profile, Buffer.from(SECRET), body, NOW, 'msg_1')).map(([name, value]) => [name.toLowerCase(), value]),
      );
      assert.deepEqual(verifyRequest(source(profile, SECRET), request(headers), NOW), OK);
      assertBadSignature(verifyRequest(source(profile, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), request(headers), NOW), /./, 'another secret');
      if (profile !== 'token') assertBadSignature(verifyRequest(source(profile, SECRET), request(headers, `${BODY} `), NOW), /./, 'another body');
    });
  }

  it('hmac-sha256 signs the timestamp it is given, and standard-webhooks the id too', () => {
    assert.deepEqual(signedHeaders('hmac-sha256', Buffer.from('your-secret'), body, NOW, 'ignored'), {
      'X-Webhook-Timestamp': String(NOW),
      'X-Webhook-Signature': signed(),
    });
    const standard = signedHeaders('standard-webhooks', Buffer.from(SECRET), body, NOW, 'msg_1');
    assert.equal(standard['webhook-id'], 'msg_1');
    assert.equal(standard['webhook-timestamp'], String(NOW));
    assert.match(standard['webhook-signature']!, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(signedHeaders('hmac-body', Buffer.from('k'), body, NOW, 'x'), { 'x-hub-signature-256': `sha256=${hexHmac('k', BODY)}` });
    assert.deepEqual(signedHeaders('token', Buffer.from('tok'), body, NOW, 'x'), { 'x-webhook-token': 'tok' });
  });
});

describe('the signed event id (what makes a redelivery the same event)', () => {
  it('is webhook-id, or svix-id under Svix names, for standard-webhooks only', () => {
    assert.equal(signedIdHeader('standard-webhooks', { 'webhook-id': 'a' }), 'webhook-id');
    assert.equal(signedIdHeader('standard-webhooks', { 'svix-id': 'a', 'svix-signature': 'v1,x' }), 'svix-id');
    assert.equal(signedEventId('standard-webhooks', { 'webhook-id': 'msg_1', 'svix-id': 'msg_2' }), 'msg_1');
    assert.equal(signedEventId('standard-webhooks', { 'svix-id': 'msg_2', 'svix-timestamp': '1' }), 'msg_2');
    assert.equal(signedEventId('standard-webhooks', {}), undefined);
    for (const profile of ['hmac-sha256', 'hmac-body', 'token'] as const) {
      // An unsigned id header is never read: a captured request could otherwise mint new events.
      assert.equal(signedIdHeader(profile, { 'webhook-id': 'a' }), undefined, profile);
      assert.equal(signedEventId(profile, { 'webhook-id': 'a', 'x-webhook-id': 'b' }), undefined, profile);
    }
  });
});

describe('weak secrets', () => {
  it('are under 16 key bytes: the raw bytes, or the decoded key of a whsec_ secret', () => {
    assert.equal(MIN_SECRET_BYTES, 16);
    assert.equal(isWeakSecret('hmac-sha256', Buffer.alloc(15, 'a')), true);
    assert.equal(isWeakSecret('hmac-sha256', Buffer.alloc(16, 'a')), false);
    assert.equal(isWeakSecret('token', Buffer.alloc(15, 'a')), true);
    assert.equal(isWeakSecret('standard-webhooks', Buffer.from(`whsec_${Buffer.alloc(16).toString('base64')}`)), false);
    // 22 characters, but a key of 15 bytes.
    assert.equal(isWeakSecret('standard-webhooks', Buffer.from(`whsec_${Buffer.alloc(15).toString('base64')}`)), true);
    assert.equal(isWeakSecret('hmac-sha256', Buffer.from(`whsec_${Buffer.alloc(15).toString('base64')}`)), false, 'read as raw bytes elsewhere');
  });
});

describe('header forms are matched whole', () => {
  it('standard-webhooks: a v1 entry with anything before or after it is not one', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = signedHeaders('standard-webhooks', Buffer.from(secret), Buffer.from(BODY), NOW, 'msg_1');
    const verify = (signature: string) => verifyRequest(source('standard-webhooks', secret), request({ ...headers, 'webhook-signature': signature }), NOW);
    const good = headers['webhook-signature']!;
    assert.deepEqual(verify(`  ${good}\t`), OK);
    assertBadSignature(verify(`${good}A`), /is not v1,<base64 of 32 bytes>$/);
    assertBadSignature(verify(`x${good}`), /is not v1,<base64 of 32 bytes>$/);
    assertBadSignature(verify(good.replace('v1,', 'v1,,')));
  });

  it('token: Bearer, whitespace and then the whole token, nothing after it', () => {
    const verify = (authorization: string) => verifyRequest(source('token', 'tok-current'), request({ authorization }), NOW);
    assert.deepEqual(verify('Bearer    tok-current'), OK);
    assert.deepEqual(verify('  Bearer tok-current  '), OK);
    assertBadSignature(verify('Bearer tok-current extra'));
    assertBadSignature(verify('XBearer tok-current'));
    assertBadSignature(verify('Bearertok-current'));
  });

  it('hmac-body: the messages name X-Hub-Signature-256 and what it signs', () => {
    const verify = (signature: string) => verifyRequest(source('hmac-body', 'k'), request({ 'x-hub-signature-256': signature }), NOW);
    assertBadSignature(verify('sha256=abc'), /: X-Hub-Signature-256 is not sha256=<64 hex digits>$/);
    assertBadSignature(
      verify(`sha256=${hexHmac('other', BODY)}`),
      /: X-Hub-Signature-256 matches none of the source's secrets \(it must be the HMAC-SHA256 of the raw body with the secret\)$/,
    );
  });
});
