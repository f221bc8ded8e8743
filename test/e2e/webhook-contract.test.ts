/**
 * The webhook contract of docs/api.md, driven over real HTTP against the real service process
 * (embedded store): every check in its order with its status, code and message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { startService, type RunningService } from '../helpers/service.js';
import { hmacSignature, hubSignatureHeaders, nowSeconds, signedHeaders, standardWebhooksHeaders } from '../helpers/sign.js';
import { assertError, getAnonymous, metricsText, post as postTo, TEST_TOKEN, waitFor, type Reply } from '../helpers/api-client.js';
import { memoryOf } from '../helpers/process-memory.js';

const CONFIG = `
sources:
  email-gateway:
    secret: "your-secret"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping:
      critical: critical
      high: high
      medium: medium
      low: low
  edr:
    secret: "current-secret"
    previous_secret: "previous-secret"
    max_body_bytes: 2048
    tolerance_seconds: 90
  limited:
    secret: "limited-secret"
    rate_limit:
      requests_per_second: 1
      burst: 2
  strangers:
    secret: "strangers-secret"
    rate_limit:
      requests_per_second: 1
      burst: 1
  capped:
    secret: "capped-secret"
    rate_limit:
      requests_per_second: 1
      burst: 2
  refill:
    secret: "refill-secret"
    rate_limit:
      requests_per_second: 1
      burst: 1
  bucket-a:
    secret: "a-secret"
    rate_limit:
      requests_per_second: 1
      burst: 1
  bucket-b:
    secret: "b-secret"
    rate_limit:
      requests_per_second: 1
      burst: 1
  identity:
    secret: "identity-secret"
  stdhooks:
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    verification: standard-webhooks
  github-style:
    secret: "body-secret"
    verification: hmac-body
  splunk:
    secret: "splunk-token-value"
    verification: token
    format: splunk
  paused:
    secret: "paused-secret"
    enabled: false
`;

let service: RunningService;

before(async () => {
  service = await startService({ config: CONFIG });
});
after(async () => {
  await service?.stop();
});

const post = (path: string, body: string | Buffer, headers: Record<string, string>) => postTo(service.url, path, body, headers);

const alert = (id: string) =>
  JSON.stringify({
    event_type: 'security_alert',
    timestamp: '2024-01-15T10:00:00Z',
    source: 'edr',
    data: { alert_id: id, severity: 'high', details: { host: 'ws-1' } },
  });

describe('the spec recipe', () => {
  it('accepts the "Send Test Event" script verbatim under bash, then answers its repeat as a duplicate', () => {
    // The spec's lines, with only the URL's port changed to the test service's.
    const script = `
TIMESTAMP=$(date +%s)
BODY='{"event_type":"test","data":{}}'
SIGNATURE=$(echo -n "\${TIMESTAMP}.\${BODY}" | openssl dgst -sha256 -hmac "your-secret")

# Send request
curl -s -w '\\n%{http_code}' -X POST "${service.url}/api/webhooks/email-gateway" \\
  -H "Content-Type: application/json" \\
  -H "X-Webhook-Signature: sha256=\${SIGNATURE}" \\
  -H "X-Webhook-Timestamp: \${TIMESTAMP}" \\
  -d "\${BODY}"
`;
    const [first, firstStatus] = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(firstStatus, '201');
    const accepted = JSON.parse(first!);
    assert.equal(accepted.status, 'accepted');
    assert.match(accepted.incident_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(accepted.incident_number, /^INC-\d{4}-\d{4,}$/);

    const [second, secondStatus] = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(secondStatus, '200');
    assert.deepEqual(JSON.parse(second!), { ...accepted, duplicate: true });
  });
});

describe('checks in the contract order', () => {
  it('unknown_source: 404 with the spec message, before anything else is looked at', async () => {
    assertError(await post('/api/webhooks/unknown', 'not even json', {}), 404, 'unknown_source', "Webhook source 'unknown' is not registered");
  });

  it('a disabled (suspended) source is not registered', async () => {
    const body = alert('p-1');
    assertError(await post('/api/webhooks/paused', body, signedHeaders('paused-secret', body)), 404, 'unknown_source');
  });

  it('payload_too_large: 413 on Content-Length before verification', async () => {
    const body = 'x'.repeat(4096);
    assertError(await post('/api/webhooks/edr', body, { 'x-webhook-timestamp': 'garbage' }), 413, 'payload_too_large');
  });

  it('payload_too_large: 413 while streaming a chunked body', async () => {
    const reply = await new Promise<Reply>((done, fail) => {
      const req = request(`${service.url}/api/webhooks/edr`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => done({ status: res.statusCode!, headers: new Headers(), body: JSON.parse(text) }));
      });
      req.on('error', fail);
      for (let i = 0; i < 8; i++) req.write('y'.repeat(512));
      req.end();
    });
    assertError(reply, 413, 'payload_too_large');
  });

  it('invalid_timestamp: missing, not an integer, or too far in the future', async () => {
    const body = alert('t-1');
    const headers = signedHeaders('current-secret', body);
    assertError(await post('/api/webhooks/edr', body, { ...headers, 'x-webhook-timestamp': '' }), 401, 'invalid_timestamp');
    const noTimestamp = { ...headers };
    delete (noTimestamp as Record<string, string>)['x-webhook-timestamp'];
    assertError(await post('/api/webhooks/edr', body, noTimestamp), 401, 'invalid_timestamp');
    assertError(await post('/api/webhooks/edr', body, { ...headers, 'x-webhook-timestamp': '1705320000.5' }), 401, 'invalid_timestamp');
    const future = nowSeconds() + 600;
    assertError(await post('/api/webhooks/edr', body, signedHeaders('current-secret', body, future)), 401, 'invalid_timestamp');
  });

  it('timestamp_expired: older than the source tolerance, with the tolerance in the message', async () => {
    const body = alert('t-2');
    const old = nowSeconds() - 120;
    assertError(await post('/api/webhooks/edr', body, signedHeaders('current-secret', body, old)), 401, 'timestamp_expired', /too old \(>90 seconds\)/);
    const older = nowSeconds() - 301;
    assertError(
      await post('/api/webhooks/email-gateway', body, signedHeaders('your-secret', body, older)),
      401,
      'timestamp_expired',
      'Webhook timestamp is too old (>5 minutes)',
    );
  });

  it('invalid_signature: wrong secret, tampered body, malformed digest', async () => {
    const body = alert('s-1');
    const wrong = signedHeaders('not-the-secret', body);
    assertError(
      await post('/api/webhooks/edr', body, wrong),
      401,
      'invalid_signature',
      "Webhook signature verification failed: X-Webhook-Signature matches none of the source's secrets (it must be the HMAC-SHA256 of '<X-Webhook-Timestamp>.<raw body>' with the secret)",
    );
    const good = signedHeaders('current-secret', body);
    assertError(await post('/api/webhooks/edr', body.replace('high', 'low'), good), 401, 'invalid_signature');
    const truncated = { ...good, 'x-webhook-signature': good['x-webhook-signature']!.slice(0, -1) };
    assertError(await post('/api/webhooks/edr', body, truncated), 401, 'invalid_signature');
  });

  it('invalid_payload: 400 for a signed body that is not a JSON object', async () => {
    for (const body of ['not json', '[1,2,3]', '"text"', '{"unterminated":']) {
      const reply = await post('/api/webhooks/edr', body, signedHeaders('current-secret', body));
      assertError(reply, 400, 'invalid_payload');
      assert.doesNotMatch(reply.body.error.message, /at .*\.(ts|js):\d+/);
    }
  });

  it('rate_limited: 429 with Retry-After once the burst of authenticated requests is spent', async () => {
    const statuses: number[] = [];
    let limited: Reply | undefined;
    for (let i = 0; i < 4; i++) {
      const body = alert(`rl-${i}`);
      const reply = await post('/api/webhooks/limited', body, signedHeaders('limited-secret', body));
      statuses.push(reply.status);
      if (reply.status === 429) limited = reply;
    }
    assert.deepEqual(statuses.slice(0, 2), [201, 201]);
    assert.ok(limited, `expected a 429 in ${statuses.join(', ')}`);
    assertError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });

  it('unauthenticated requests do not spend the rate limit', async () => {
    // Burst 1: had any of these taken a token, the signed request right after would be a 429. (Three:
    // strangers do spend the pre-read bucket, four times the burst; see the limits before the read.)
    for (let i = 0; i < 3; i++) {
      assertError(await post('/api/webhooks/strangers', '{}', signedHeaders('wrong', '{}')), 401, 'invalid_signature');
    }
    const body = alert('strangers-1');
    assert.equal((await post('/api/webhooks/strangers', body, signedHeaders('strangers-secret', body))).status, 201);
    const next = alert('strangers-2');
    assertError(await post('/api/webhooks/strangers', next, signedHeaders('strangers-secret', next)), 429, 'rate_limited');
  });

  it('a bucket refills to its burst and no further, however long it idles', async () => {
    const send = (id: string) => post('/api/webhooks/capped', alert(id), signedHeaders('capped-secret', alert(id)));
    assert.equal((await send('capped-0')).status, 201);
    assert.equal((await send('capped-1')).status, 201);
    assertError(await send('capped-2'), 429, 'rate_limited');
    // Idle 5 s at 1 token/s: 5 tokens' worth of refill, of which the bucket keeps its burst of 2. Five
    // requests right after: 2 accepted (a third only if the five took over a second, as on a loaded machine).
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const statuses = [];
    for (let i = 3; i < 8; i++) statuses.push((await send(`capped-${i}`)).status);
    assert.deepEqual(statuses.slice(0, 2), [201, 201]);
    const accepted = statuses.filter((status) => status === 201).length;
    assert.ok(accepted <= 3, `${accepted} of 5 accepted after the idle: ${statuses.join(', ')}`);
  });

  it('a spent bucket refills at the configured rate', async () => {
    const send = (id: string) => post('/api/webhooks/refill', alert(id), signedHeaders('refill-secret', alert(id)));
    const firstAt = Date.now();
    assert.equal((await send('refill-1')).status, 201);
    const limited = await send('refill-2');
    assertError(limited, 429, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '1');
    // Polling with rejected requests is fine: a 429 takes no token.
    const accepted = await waitFor(
      async () => {
        const reply = await send('refill-2');
        return reply.status === 201 ? Date.now() : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'the bucket to refill' },
    );
    // One token at one per second: not before (about) a second after the first request.
    assert.ok(accepted - firstAt >= 800, `refilled after ${accepted - firstAt} ms`);
  });

  it('each source has a bucket of its own', async () => {
    const send = (source: string, secret: string) => {
      const body = alert(randomUUID());
      return post(`/api/webhooks/${source}`, body, signedHeaders(secret, body));
    };
    assert.equal((await send('bucket-a', 'a-secret')).status, 201);
    assertError(await send('bucket-a', 'a-secret'), 429, 'rate_limited');
    assert.equal((await send('bucket-b', 'b-secret')).status, 201, "a's spent bucket does not limit b");
    assertError(await send('bucket-b', 'b-secret'), 429, 'rate_limited');
  });
});

describe('event identity: only what the signature covers makes an event', () => {
  const generic = (alertId: string | undefined, note: string) =>
    JSON.stringify({ event_type: 'security_alert', data: { ...(alertId ? { alert_id: alertId } : {}), severity: 'low', note } });
  const run = randomUUID().slice(0, 8);
  const send = (body: string, headers: Record<string, string> = {}) =>
    post('/api/webhooks/identity', body, { ...signedHeaders('identity-secret', body), ...headers });
  /** Sends and returns the incident id, asserting whether it was new (201) or a duplicate (200). */
  type Send = (body: string, headers: Record<string, string>) => Promise<Reply>;
  async function incidentOf(created: boolean, body: string, headers: Record<string, string> = {}, sent: Send = send): Promise<string> {
    const reply = await sent(body, headers);
    assert.equal(reply.status, created ? 201 : 200, JSON.stringify({ headers, reply: reply.body }));
    assert.equal(reply.body.duplicate === true, !created);
    return reply.body.incident_id as string;
  }

  it('a captured request re-sent with fresh X-Webhook-Id, Idempotency-Key or webhook-id headers is the same event', async () => {
    const body = generic(undefined, `captured-${run}`);
    const captured = signedHeaders('identity-secret', body);
    const first = await incidentOf(true, body, {}, (b) => post('/api/webhooks/identity', b, captured));
    for (let replay = 0; replay < 20; replay++) {
      const fresh = { 'x-webhook-id': randomUUID(), 'idempotency-key': randomUUID(), 'webhook-id': randomUUID() };
      assert.equal(await incidentOf(false, body, fresh, (b, h) => post('/api/webhooks/identity', b, { ...captured, ...h })), first, `replay ${replay}`);
    }
  });

  it('2000 replays of one captured request, each dressed in fresh unsigned id headers, are 2000 duplicates of one incident, in bounded memory', async (t) => {
    const body = generic(undefined, `flood-${run}`);
    const captured = signedHeaders('identity-secret', body);
    const first = await incidentOf(true, body, {}, (b) => post('/api/webhooks/identity', b, captured));
    /** A counter of the identity source, summed over its other labels. */
    const counter = async (name: string) =>
      [...(await metricsText(service.url)).matchAll(new RegExp(`^${name}\\{source="identity"(?:,[^}]*)?\\} (\\S+)$`, 'gm'))].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    const created = await counter('webhook_incidents_created_total');
    const duplicates = await counter('webhook_duplicates_total');
    const before = memoryOf(service.process.pid!);
    const replays = 2000;
    for (let sent = 0; sent < replays; sent += 50) {
      const replies = await Promise.all(
        Array.from({ length: 50 }, () =>
          post('/api/webhooks/identity', body, { ...captured, 'x-webhook-id': randomUUID(), 'idempotency-key': randomUUID(), 'webhook-id': randomUUID() }),
        ),
      );
      for (const reply of replies) {
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        assert.equal(reply.body.incident_id, first);
      }
    }
    const after = memoryOf(service.process.pid!);
    assert.equal(await counter('webhook_incidents_created_total'), created, 'no incident was created by a replay');
    assert.equal((await counter('webhook_duplicates_total')) - duplicates, replays);
    t.diagnostic(`${replays} replays → 0 incidents, ${replays} duplicates; RSS ${before.rssMiB} → ${after.rssMiB} MiB, peak ${after.peakMiB} MiB`);
    assert.ok(after.rssMiB - before.rssMiB < 64, `RSS grew from ${before.rssMiB} to ${after.rssMiB} MiB`);
  });

  it('a vendor retry (same body, new timestamp, same id header) stays one incident', async () => {
    const body = generic(undefined, `retried-${run}`);
    const first = await incidentOf(true, body, { 'x-webhook-id': `delivery-${run}` });
    const retry = signedHeaders('identity-secret', body, nowSeconds() + 5);
    assert.equal(await incidentOf(false, body, { ...retry, 'x-webhook-id': `delivery-${run}` }), first);
  });

  it('an unsigned id header never merges two signed bodies either', async () => {
    const first = await incidentOf(true, generic(`v1-${run}`, 'a'), { 'x-webhook-id': `same-${run}`, 'idempotency-key': `same-${run}` });
    assert.notEqual(await incidentOf(true, generic(`v2-${run}`, 'b'), { 'x-webhook-id': `same-${run}`, 'idempotency-key': `same-${run}` }), first);
  });

  it('the vendor id beats the body hash, which identifies an event without any id', async () => {
    const first = await incidentOf(true, generic(`v7-${run}`, 'a'));
    assert.equal(await incidentOf(false, generic(`v7-${run}`, 'b')), first, 'same vendor id, other body');
    assert.notEqual(await incidentOf(true, generic(`v8-${run}`, 'a')), first);
    const anonymous = await incidentOf(true, generic(undefined, `body-${run}`));
    assert.equal(await incidentOf(false, generic(undefined, `body-${run}`)), anonymous, 'same body, no id');
    assert.notEqual(await incidentOf(true, generic(undefined, `other-${run}`)), anonymous);
  });

  it("Standard Webhooks' signed webhook-id is the key: it beats the vendor id, and it cannot be swapped", async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const sent = (body: string, headers: Record<string, string>) => post('/api/webhooks/stdhooks', body, headers);
    const body = generic(`sw-${run}`, 'a');
    const first = await incidentOf(true, body, standardWebhooksHeaders(secret, `msg-${run}`, body), sent);
    const other = generic(`sw2-${run}`, 'b');
    assert.equal(await incidentOf(false, other, standardWebhooksHeaders(secret, `msg-${run}`, other), sent), first, 'same signed id, other body');
    assert.notEqual(await incidentOf(true, body, standardWebhooksHeaders(secret, `msg2-${run}`, body), sent), first, 'a new signed id is a new event');
    const swapped = { ...standardWebhooksHeaders(secret, `msg-${run}`, body), 'webhook-id': `msg3-${run}` };
    assertError(await sent(body, swapped), 401, 'invalid_signature');
  });

  it('hmac-body signs no timestamp: a replay stays a duplicate, however it is dressed', async () => {
    const body = alert(`gh-replay-${run}`);
    const captured = hubSignatureHeaders('body-secret', body);
    const first = await post('/api/webhooks/github-style', body, captured);
    assert.equal(first.status, 201);
    const extras: Record<string, string>[] = [{ 'x-webhook-id': randomUUID() }, { 'idempotency-key': randomUUID() }, { 'webhook-id': randomUUID() }];
    for (const extra of extras) {
      const replay = await post('/api/webhooks/github-style', body, { ...captured, ...extra });
      assert.equal(replay.status, 200, JSON.stringify(replay.body));
      assert.equal(replay.body.incident_id, first.body.incident_id);
    }
  });
});

describe('secret rotation', () => {
  it('accepts the current and the previous secret, and several signatures in one header', async () => {
    const a = alert('rot-1');
    assert.equal((await post('/api/webhooks/edr', a, signedHeaders('current-secret', a))).status, 201);
    const b = alert('rot-2');
    assert.equal((await post('/api/webhooks/edr', b, signedHeaders('previous-secret', b))).status, 201);
    const c = alert('rot-3');
    const ts = nowSeconds();
    const both = `sha256=${hmacSignature('retired-secret', ts, c)}, sha256=${hmacSignature('current-secret', ts, c)}`;
    const reply = await post('/api/webhooks/edr', c, { 'x-webhook-timestamp': String(ts), 'x-webhook-signature': both });
    assert.equal(reply.status, 201);
  });
});

describe('verification profiles', () => {
  it('standard-webhooks: webhook-id/-timestamp/-signature, and webhook-id makes a retry a duplicate', async () => {
    const body = alert('std-1');
    const headers = standardWebhooksHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_2Kq', body);
    const first = await post('/api/webhooks/stdhooks', body, headers);
    assert.equal(first.status, 201);
    const retry = await post('/api/webhooks/stdhooks', body, headers);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.duplicate, true);
    assert.equal(retry.body.incident_id, first.body.incident_id);
    assertError(await post('/api/webhooks/stdhooks', body, { ...headers, 'webhook-signature': 'v1,AAAA' }), 401, 'invalid_signature');
  });

  it("standard-webhooks: signed by the standardwebhooks library under the scheme's names, and by Svix's library under svix-*", async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const now = new Date();
    /** The three headers under one spelling, the signature made by a library. */
    const signedBy = (spelling: 'webhook' | 'svix', id: string, signature: string) => ({
      'content-type': 'application/json',
      [`${spelling}-id`]: id,
      [`${spelling}-timestamp`]: String(Math.floor(now.getTime() / 1000)),
      [`${spelling}-signature`]: signature,
    });
    const standard = alert('std-lib-1');
    const standardSigned = signedBy('webhook', 'msg_std_lib', new StandardWebhook(secret).sign('msg_std_lib', now, standard));
    assert.equal((await post('/api/webhooks/stdhooks', standard, standardSigned)).status, 201);

    const svix = alert('svix-lib-1');
    const svixSigned = signedBy('svix', 'msg_svix_lib', new SvixWebhook(secret).sign('msg_svix_lib', now, svix));
    new SvixWebhook(secret).verify(svix, svixSigned); // what Svix's own receivers accept
    const first = await post('/api/webhooks/stdhooks', svix, svixSigned);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const retry = await post('/api/webhooks/stdhooks', svix, svixSigned);
    assert.equal(retry.status, 200, 'svix-id makes a retry a duplicate');
    assert.equal(retry.body.incident_id, first.body.incident_id);
    // The signed svix-id is the event's identity, as webhook-id is: another body under it is the same event.
    const edited = alert('svix-lib-2');
    const resent = await post('/api/webhooks/stdhooks', edited, signedBy('svix', 'msg_svix_lib', new SvixWebhook(secret).sign('msg_svix_lib', now, edited)));
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    assert.equal(resent.body.incident_id, first.body.incident_id);
    assertError(await post('/api/webhooks/stdhooks', svix, { ...svixSigned, 'svix-id': 'msg_swapped' }), 401, 'invalid_signature');
    assertError(await post('/api/webhooks/stdhooks', svix, { ...svixSigned, 'svix-timestamp': 'late' }), 401, 'invalid_timestamp');
  });

  it('hmac-body: X-Hub-Signature-256 over the body alone', async () => {
    const body = alert('gh-1');
    assert.equal((await post('/api/webhooks/github-style', body, hubSignatureHeaders('body-secret', body))).status, 201);
    assertError(await post('/api/webhooks/github-style', body, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }), 401, 'invalid_signature');
  });

  it('token: Splunk cannot set headers, so the token may come in the query', async () => {
    const body = JSON.stringify({
      sid: 'scheduler__admin__search__RMD5_at_1705320000_1',
      search_name: 'Failed Login Alert',
      app: 'search',
      owner: 'admin',
      results_link: 'http://splunk.example:8000/app/search/@go?sid=x',
      result: { host: 'server-01', EventCode: '4625' },
    });
    assert.equal((await post('/api/webhooks/splunk?token=splunk-token-value', body, {})).status, 201);
    assertError(await post('/api/webhooks/splunk?token=wrong', body, {}), 401, 'invalid_signature');
  });

  it('token: a registered token no header carries as it is (spaces at its ends, control or non-ASCII characters) passes its test event', async () => {
    const tokens = {
      'token-spaces': ' token with spaces 0123456789 ',
      'token-control': 'token\u0001control-0123456789',
      'token-unicode': 'jeton-\u00e9t\u00e9-\u4ee4\u724c-0123456789',
    };
    const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
    for (const [source, secret] of Object.entries(tokens)) {
      const registered = await post('/api/webhooks', JSON.stringify({ source, secret, verification: 'token' }), auth);
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const tested = await post(`/api/webhooks/${source}/test`, '', auth);
      assert.equal(tested.status, 200, `${source}: ${JSON.stringify(tested.body)}`);
      assert.deepEqual([tested.body.accepted, tested.body.status], [true, 201], `${source}: ${JSON.stringify(tested.body)}`);
    }
  });
});

describe('envelope for everything else', () => {
  it('unknown routes and bad methods use the error envelope', async () => {
    assertError(await getAnonymous(service.url, '/nope'), 404, 'not_found');
  });

  it('the read API needs a bearer token', async () => {
    assertError(await getAnonymous(service.url, '/api/incidents'), 401, 'unauthorized');
  });

  it('metrics count received requests and errors by registered source or _unknown', async () => {
    const text = await metricsText(service.url);
    assert.match(text, /webhook_received_total\{source="edr"\} \d+/);
    assert.match(text, /webhook_errors_total\{source="_unknown",code="unknown_source"\} [1-9]/);
    assert.match(text, /webhook_errors_total\{source="edr",code="invalid_signature"\} [1-9]/);
    assert.match(text, /webhook_request_duration_seconds_bucket\{le="0.005",source="edr",status_class="2xx"\}/);
    assert.doesNotMatch(text, /source="unknown"/);
  });

  it('probes answer', async () => {
    assert.equal((await getAnonymous(service.url, '/healthz')).status, 200);
    const ready = await getAnonymous(service.url, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { sources: true, store: true } });
  });

  it('logs never contain secrets or signatures', () => {
    const text = JSON.stringify(service.logs);
    for (const secret of ['your-secret', 'current-secret', 'previous-secret', 'splunk-token-value']) assert.ok(!text.includes(secret), secret);
  });
});
