/**
 * The operator surface end to end: the real `tw-cli` binary against the real service process
 * (embedded store): API keys and scopes, registration, deliveries, the delivery log, test events,
 * secret rotation, removal, and what the store keeps on disk.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, genericAlert, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { CLI, runProgram, twCli } from '../helpers/cli.js';
import { childEnv } from '../helpers/child-env.js';

const SECRET = 'email-gateway-secret-9f8e7d6c5b4a';

/** The `Name: value` lines `tw-cli webhook sign` prints, as headers. */
const signedHeadersOf = (stdout: string) =>
  Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(': ') as [string, string]),
  );
const ROTATED = 'rotated-secret-0a1b2c3d4e5f';
const GRACE_SECONDS = 6;

describe('tw-cli against the real service', () => {
  let service: RunningService;
  let env: Record<string, string>;
  const cli = (args: string[], stdin?: string, token = TEST_TOKEN) => twCli(args, { ...env, TW_API_TOKEN: token }, stdin);

  before(async () => {
    service = await startService({
      config: 'sources: {}\n',
      env: { TW_ENCRYPTION_KEY: randomBytes(32).toString('base64'), TW_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS) },
    });
    env = { TW_API_URL: service.url };
  });
  after(() => service.stop());

  let readerToken = '';

  it('creates an API key whose token is shown once; a key with only webhooks:read cannot add a source (403, exit 4)', async () => {
    const created = await cli(['apikey', 'create', 'reader', '--scope', 'webhooks:read']);
    assert.equal(created.code, 0, created.stderr);
    readerToken = created.stdout.trim();
    assert.match(readerToken, /^tw_[A-Za-z0-9_-]{43}$/);

    const listed = await cli(['apikey', 'list', '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(readerToken), 'the token is never listed');
    assert.deepEqual(
      JSON.parse(listed.stdout).items.map((key: { name: string; scopes: string[] }) => [key.name, key.scopes]),
      [['reader', ['webhooks:read']]],
    );

    const refused = await cli(['webhook', 'add', 'email-gateway', '--secret', SECRET], undefined, readerToken);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /lacks the 'webhooks:write' scope \(forbidden\)/);
    const listedByReader = await cli(['webhook', 'list'], undefined, readerToken);
    assert.equal(listedByReader.code, 0, listedByReader.stderr);
  });

  it('refuses a secret shorter than 16 bytes (400, exit 1), and warns that --secret shows in ps', async () => {
    const inline = await cli(['webhook', 'add', 'short', '--secret', 'fifteen-bytes!!']);
    assert.equal(inline.code, 1);
    assert.match(inline.stderr, /^warning: --secret on the command line shows in `ps` and in shell history; prefer --secret-file F or --secret - \(stdin\)$/m);
    assert.match(inline.stderr, /secret must be at least 16 bytes; generate one with `openssl rand -hex 32` \(bad_request\)/);
    const piped = await cli(['webhook', 'add', 'short', '--secret', '-'], 'fifteen-bytes!!\n');
    assert.equal(piped.code, 1);
    assert.doesNotMatch(piped.stderr, /warning/, 'no warning when the secret stays off the command line');
    // Standard Webhooks' key is the decoded base64 of a whsec_ secret: 15 bytes of key are too few, however long the text.
    const weakKey = await cli(['webhook', 'add', 'short', '--verification', 'standard-webhooks', '--secret', '-'], `whsec_${'A'.repeat(20)}\n`);
    assert.match(weakKey.stderr, /secret must be at least 16 bytes of key/);
    assert.equal((await cli(['webhook', 'list', '-o', 'json'])).stdout.includes('"short"'), false, 'nothing was registered');
  });

  it('answers a wrong key with exit 4 and an unreachable API with exit 5, each in one line', async () => {
    const wrong = await cli(['webhook', 'list'], undefined, 'tw_not_a_key');
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /^error: the API key was not accepted: .*\(unauthorized\)\n$/);
    const unreachable = await twCli(['webhook', 'list'], { TW_API_URL: 'http://127.0.0.1:9', TW_API_TOKEN: TEST_TOKEN });
    assert.equal(unreachable.code, 5);
    assert.match(unreachable.stderr, /^error: cannot reach the tw-webhooks API at http:\/\/127\.0\.0\.1:9 .*\n$/);
  });

  it('adds a source with the secret from stdin (spec flags) and lists it without the secret', async () => {
    const added = await cli(
      ['webhook', 'add', 'email-gateway', '--secret', '-', '--auto-triage', 'true', '--playbook', 'phishing_triage', '--severity-map', 'P1=critical'],
      `${SECRET}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /email-gateway' registered: POST \/api\/webhooks\/email-gateway/);

    const again = await cli(['webhook', 'add', 'email-gateway', '--secret', 'other-secret-0123456789']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already registered .*\(conflict\)/);

    for (const output of ['table', 'json', 'yaml']) {
      const listed = await cli(['webhook', 'list', '-o', output]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(listed.stdout.includes('email-gateway'));
      assert.ok(!listed.stdout.includes(SECRET), `no secret in the ${output} listing`);
    }
    const shown = JSON.parse((await cli(['webhook', 'get', 'email-gateway', '-o', 'json'])).stdout);
    assert.equal(shown.auto_triage, true);
    assert.equal(shown.playbook, 'phishing_triage');
    assert.deepEqual(shown.severity_mapping, { p1: 'critical' });
    assert.equal(shown.active_secrets, 1);
  });

  it('adds a source with a filter from --filter-* flags, and the service refuses a bad expression with its message (exit 1)', async () => {
    const added = await cli([
      'webhook',
      'add',
      'filtered',
      '--secret',
      'filtered-secret-0123456789',
      '--filter-match',
      'payload.data.severity != "low"',
      '--filter-label',
      'team=payload.data.team',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const shown = JSON.parse((await cli(['webhook', 'get', 'filtered', '-o', 'json'])).stdout);
    assert.deepEqual(shown.filter, { match: 'payload.data.severity != "low"', labels: { team: 'payload.data.team' } });
    assert.deepEqual((await deliver(service.url, 'filtered', 'filtered-secret-0123456789', genericAlert('cli-low', 'low'))).body, { status: 'filtered' });
    const refused = await cli(['webhook', 'add', 'refused', '--secret', 'refused-secret-0123456789', '--filter-severity', 'incident.severity.lowerAscii()']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /filter\.severity: unknown function 'lowerAscii' \(bad_request\)/);
    const malformed = await cli(['webhook', 'add', 'refused', '--secret', 'refused-secret-0123456789', '--filter-label', 'no-expression']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /--filter-label takes NAME=EXPRESSION/);
  });

  it('accepts a signed event and rejects a wrongly signed one; logs --filter webhook --tail 100 shows both with their codes', async () => {
    const accepted = await deliver(service.url, 'email-gateway', SECRET, genericAlert('cli-accepted'));
    assert.equal(accepted.status, 201);
    const rejected = await deliver(service.url, 'email-gateway', 'not-the-secret', genericAlert('cli-rejected'));
    assert.equal(rejected.status, 401);
    assert.equal(rejected.body.error.code, 'invalid_signature');

    const table = await waitFor('both deliveries in the log', async () => {
      const logs = await cli(['logs', '--filter', 'webhook', '--tail', '100']);
      assert.equal(logs.code, 0, logs.stderr);
      return logs.stdout.includes('invalid_signature') && logs.stdout.includes(accepted.body.incident_number) ? logs.stdout : undefined;
    });
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /^TIME\s+SOURCE\s+STATUS\s+OUTCOME\s+LATENCY\s+INCIDENT/);
    assert.ok(
      lines.some((line) => /email-gateway\s+201\s+created\s+[0-9.]+ms\s+INC-\d{4}-\d{4,}/.test(line) && line.includes(accepted.body.incident_number)),
      table,
    );
    assert.ok(
      lines.some((line) => /email-gateway\s+401\s+invalid_signature\s+[0-9.]+ms/.test(line)),
      table,
    );

    const json = await cli(['logs', '--filter', 'webhook', '--tail', '100', '--source', 'email-gateway', '-o', 'json']);
    const codes = JSON.parse(json.stdout).items.map((record: { status: number; code: string | null }) => [record.status, record.code]);
    assert.deepEqual(codes.slice(-2), [
      [201, null],
      [401, 'invalid_signature'],
    ]);
  });

  it('logs --follow streams new deliveries as they happen', async () => {
    const { spawn } = await import('node:child_process');
    const follower = spawn(process.execPath, [CLI, 'logs', '--follow', '--tail', '1', '--source', 'email-gateway', '-o', 'json'], {
      env: childEnv({ ...env, TW_API_TOKEN: TEST_TOKEN }),
    });
    let streamed = '';
    follower.stdout.on('data', (chunk) => (streamed += String(chunk)));
    try {
      await waitFor('the tail line', async () => (streamed.split('\n').length > 1 ? true : undefined));
      const started = Date.now();
      const accepted = await deliver(service.url, 'email-gateway', SECRET, genericAlert('cli-followed'));
      await waitFor('the followed delivery', async () => (streamed.includes(accepted.body.incident_id) ? true : undefined), 5_000, 20);
      // The live feed, not a store poll: well under the recorder's 1 s flush and the 5 s poll.
      assert.ok(Date.now() - started < 900, `streamed after ${Date.now() - started} ms`);
      const record = JSON.parse(streamed.trim().split('\n').at(-1)!);
      assert.equal(record.status, 201);
    } finally {
      follower.kill();
    }
  });

  it('webhook sign prints the two headers of the contract, which the receiver accepts', async () => {
    const body = genericAlert('cli-signed');
    const signed = await cli(['webhook', 'sign', '--secret', SECRET], body);
    assert.equal(signed.code, 0, signed.stderr);
    const headers = signedHeadersOf(signed.stdout);
    assert.deepEqual(Object.keys(headers), ['X-Webhook-Timestamp', 'X-Webhook-Signature']);
    assert.match(headers['X-Webhook-Signature']!, /^sha256=[0-9a-f]{64}$/);
    const response = await fetch(`${service.url}/api/webhooks/email-gateway`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    assert.equal(response.status, 201);

    const fixed = await cli(['webhook', 'sign', '--secret', 'your-secret', '--timestamp', '1705320000'], '{"event_type":"test","data":{}}');
    // What `echo -n "1705320000.{…}" | openssl dgst -sha256 -hmac your-secret` prints for the spec's recipe.
    assert.match(fixed.stdout, /X-Webhook-Signature: sha256=8ad00c4e6f4b6c5b3d4dcece915fd33fd924a31c208133e2a75b6bb9af1617e3/);
  });

  it('webhook test exits 0 when the signed test event is accepted, 6 when it is rejected, 3 for an unknown source', async () => {
    const ok = await cli(['webhook', 'test', 'email-gateway']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^accepted: HTTP 201 INC-\d{4}-\d{4,}/);

    // A source pinned to CrowdStrike gets a test event in CrowdStrike's shape, so it passes too.
    assert.equal((await cli(['webhook', 'add', 'edr', '--secret', 'edr-secret-0123456789', '--format', 'crowdstrike'])).code, 0);
    const pinned = await cli(['webhook', 'test', 'edr']);
    assert.equal(pinned.code, 0, pinned.stdout);

    // Disabled: the receiver answers unknown_source, and the test says so with exit 6.
    assert.equal((await cli(['webhook', 'update', 'edr', '--disabled'])).code, 0);
    const rejected = await cli(['webhook', 'test', 'edr']);
    assert.equal(rejected.code, 3, rejected.stdout);
    assert.equal((await cli(['webhook', 'update', 'edr', '--enabled'])).code, 0);

    const unknown = await cli(['webhook', 'test', 'nope']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /is not registered \(unknown_source\)/);
  });

  it('rotates the secret through PATCH: both secrets verify during the grace period, then only the new one', async () => {
    const weak = await cli(['webhook', 'update', 'email-gateway', '--secret', '-'], 'too-short\n');
    assert.match(weak.stderr, /secret must be at least 16 bytes.*\(bad_request\)/, 'a rotation is held to the same minimum');
    const rotated = await cli(['webhook', 'update', 'email-gateway', '--secret', ROTATED]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /2 active secrets/);
    assert.equal((await deliver(service.url, 'email-gateway', ROTATED, genericAlert('rotated-new'))).status, 201);
    assert.equal((await deliver(service.url, 'email-gateway', SECRET, genericAlert('rotated-old'))).status, 201, 'the old secret still verifies');

    const old = await waitFor(
      'the grace period to end',
      async () => {
        const reply = await deliver(service.url, 'email-gateway', SECRET, genericAlert(`rotated-old-${Date.now()}`));
        return reply.status === 401 ? reply : undefined;
      },
      (GRACE_SECONDS + 10) * 1000,
      250,
    );
    assert.equal(old.body.error.code, 'invalid_signature');
    assert.equal((await deliver(service.url, 'email-gateway', ROTATED, genericAlert('rotated-new-after'))).status, 201);
  });

  it('removes a source: its URL answers 404 unknown_source and webhook get exits 3', async () => {
    const removed = await cli(['webhook', 'remove', 'email-gateway']);
    assert.equal(removed.code, 0, removed.stderr);
    const reply = await deliver(service.url, 'email-gateway', ROTATED, genericAlert('after-removal'));
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.body, { error: { code: 'unknown_source', message: "Webhook source 'email-gateway' is not registered" } });
    assert.equal((await cli(['webhook', 'get', 'email-gateway'])).code, 3);
    assert.equal((await cli(['webhook', 'delete', 'email-gateway'])).code, 3);
  });

  it('audit list: who changed which key or source and when, for admins only, without a secret', async () => {
    const ops = await cli(['apikey', 'create', 'ops', '--scope', 'admin']);
    assert.equal(ops.code, 0, ops.stderr);
    const opsToken = ops.stdout.trim();
    assert.equal((await cli(['webhook', 'add', 'audited', '--secret', '-', '--format', 'generic'], `${SECRET}\n`, opsToken)).code, 0);
    assert.equal((await cli(['webhook', 'remove', 'audited'], undefined, opsToken)).code, 0);

    const listed = await cli(['audit', 'list', '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    const items = JSON.parse(listed.stdout).items as {
      at: string;
      action: string;
      target: string;
      actor: { key_id: string; key_name: string };
      details: any;
    }[];
    const opsKeyId = items.find((item) => item.action === 'apikey.create' && item.details.name === 'ops')!.target;
    const by = (action: string, target: string) => items.find((item) => item.action === action && item.target === target);
    assert.deepEqual(by('source.remove', 'audited')?.actor, { key_id: opsKeyId, key_name: 'ops', kubernetes_user: null });
    assert.deepEqual(by('source.register', 'audited')?.details, { keys: ['format'], previous_secret: false });
    assert.equal(by('apikey.create', opsKeyId)?.actor.key_id, 'bootstrap');
    assert.deepEqual(by('apikey.create', opsKeyId)?.details, { name: 'ops', scopes: ['admin'], expires_at: null });
    assert.equal(by('source.update', 'email-gateway')?.details.secret_rotated, true, 'the rotation above');
    assert.ok(
      items.every((item, index) => index === 0 || items[index - 1]!.at >= item.at),
      'newest first',
    );
    for (const secret of [SECRET, ROTATED]) assert.equal(listed.stdout.includes(secret), false);

    const table = await cli(['audit', 'list', '--target', 'audited']);
    assert.match(table.stdout, /^TIME +ACTION +TARGET +KEY/);
    assert.equal(table.stdout.trim().split('\n').length, 3, 'a header and the two changes to that source');
    const forbidden = await cli(['audit', 'list'], undefined, readerToken);
    assert.equal(forbidden.code, 4);
    assert.match(forbidden.stderr, /lacks the 'admin' scope/);
  });

  it('keeps no secret in plain text in the store files or the logs', async () => {
    assert.equal((await cli(['webhook', 'add', 'siem', '--secret', SECRET])).code, 0);
    const files = readdirSync(service.dataDir).map((file) => join(service.dataDir, file));
    assert.ok(
      files.some((file) => file.endsWith('tw-webhooks.sqlite')),
      `store files: ${files.join(', ')}`,
    );
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of [SECRET, ROTATED, 'edr-secret-0123456789']) {
        assert.equal(bytes.includes(secret), false, `${file} holds a secret in plain text`);
        assert.equal(bytes.includes(Buffer.from(secret).toString('base64')), false, `${file} holds a secret in base64`);
      }
    }
    const logText = JSON.stringify(service.logs);
    for (const secret of [SECRET, ROTATED]) assert.equal(logText.includes(secret), false);
  });

  it('revokes an API key: it is refused from then on (exit 4)', async () => {
    const keys = JSON.parse((await cli(['apikey', 'list', '-o', 'json'])).stdout).items as { id: string; name: string; last_used_at: string | null }[];
    const reader = keys.find((key) => key.name === 'reader')!;
    assert.equal((await cli(['apikey', 'revoke', reader.id])).code, 0);
    const refused = await cli(['webhook', 'list'], undefined, readerToken);
    assert.equal(refused.code, 4);
    assert.equal((await cli(['apikey', 'revoke', reader.id])).code, 3);
  });
});

describe('registration refusals', () => {
  it('turns registration off with TW_REGISTRATION_API=false (405) while listing and test events still work', async () => {
    const service = await startService({
      config: 'sources:\n  siem:\n    secret: file-secret\n',
      env: { TW_REGISTRATION_API: 'false' },
    });
    try {
      const env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
      const added = await twCli(['webhook', 'add', 'edr', '--secret', SECRET], env);
      assert.equal(added.code, 1);
      assert.match(added.stderr, /Registration through the API is turned off \(TW_REGISTRATION_API=false\).*\(method_not_allowed\)/);
      const response = await fetch(`${service.url}/api/webhooks/siem`, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      assert.equal(response.status, 405);
      const listed = JSON.parse((await twCli(['webhook', 'list', '-o', 'json'], env)).stdout);
      assert.deepEqual(
        listed.items.map((source: { source: string; origin: string }) => source.source),
        ['siem'],
      );
      assert.equal((await twCli(['webhook', 'test', 'siem'], env)).code, 0);
    } finally {
      await service.stop();
    }
  });

  it('a name declared in the config file is a conflict for the API, and is changed only in the file', async () => {
    const service = await startService({ config: 'sources:\n  siem:\n    secret: file-secret\n' });
    try {
      const env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
      const added = await twCli(['webhook', 'add', 'siem', '--secret', SECRET], env);
      assert.equal(added.code, 1);
      assert.match(added.stderr, /already registered \(declared in file:.*webhook_config\.yaml\) \(conflict\)/);
      const removed = await twCli(['webhook', 'remove', 'siem'], env);
      assert.match(removed.stderr, /declared in file:.*; change it there \(conflict\)/);
      const badName = await fetch(`${service.url}/api/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        body: JSON.stringify({ source: 'Not_A_DNS_Label', secret: 's' }),
      });
      assert.equal(badName.status, 400);
      assert.match(((await badName.json()) as { error: { message: string } }).error.message, /source must match pattern/);

      // A change is checked against the whole merged source: auto-triage still needs a playbook.
      assert.equal((await twCli(['webhook', 'add', 'edr', '--secret', SECRET], env)).code, 0);
      const incomplete = await twCli(['webhook', 'update', 'edr', '--auto-triage'], env);
      assert.equal(incomplete.code, 1);
      assert.match(incomplete.stderr, /playbook is required when auto_triage is true \(bad_request\)/);
    } finally {
      await service.stop();
    }
  });
});

describe('tw-cli as kubectl and gh users expect it', () => {
  let service: RunningService;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}, stdin?: string) => twCli(args, { ...env, ...extra }, stdin);

  before(async () => {
    service = await startService({
      config: 'sources:\n  phish:\n    secret: phish-secret\n    auto_triage: true\n    playbook: phishing_triage\n',
      env: { TW_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
    });
    env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
  });
  after(() => service.stop());

  it('takes the global flags anywhere on the line, and an API URL without a scheme', async () => {
    const host = service.url.replace('http://', '');
    for (const args of [
      ['--api-url', host, 'webhook', 'list', '-o', 'json'],
      ['-o', 'json', 'webhook', 'list'],
      ['webhook', '-o', 'json', 'list'],
      ['webhook', 'ls', '--output=json'],
    ]) {
      const listed = await cli(args, { TW_API_URL: args.includes('--api-url') ? 'http://127.0.0.1:9' : service.url });
      assert.equal(listed.code, 0, `${args.join(' ')}: ${listed.stderr}`);
      assert.deepEqual(
        JSON.parse(listed.stdout).items.map((item: { source: string }) => item.source),
        ['phish'],
        args.join(' '),
      );
    }
  });

  it('reaches an API behind a path prefix, given in TW_API_URL or --api-url', async () => {
    // A reverse proxy that serves the API under /tw/ only, as an ingress routing by path would.
    const proxy = createServer((request, response) => {
      if (!request.url!.startsWith('/tw/')) return void response.writeHead(404).end('not here');
      const upstream = httpRequest(`${service.url}${request.url!.slice(3)}`, { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
    });
    await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
    try {
      const prefixed = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/tw`;
      const viaEnv = await cli(['webhook', 'get', 'phish', '-o', 'json'], { TW_API_URL: prefixed });
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
      assert.equal(JSON.parse(viaEnv.stdout).source, 'phish');
      const viaFlag = await cli(['--api-url', `${prefixed.replace('http://', '')}/`, 'incident', 'list']);
      assert.equal(viaFlag.code, 0, viaFlag.stderr);
      const wrongPrefix = await cli(['webhook', 'list'], { TW_API_URL: prefixed.replace('/tw', '/other') });
      assert.equal(wrongPrefix.code, 3);
      assert.match(wrongPrefix.stderr, /^error: .*answered 404 without the API's error envelope: is .* the tw-webhooks API\? \(http_404\)\n$/);
    } finally {
      proxy.close();
    }
  });

  it('prints its version, and every usage error in one line that names the fix', async () => {
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version);
    const cases: [string[], RegExp][] = [
      [['webhook', 'add', 'x', '--secert', 's'], /^error: unknown option '--secert' \(did you mean --secret\?\); see 'tw-cli webhook add --help'\n$/],
      [['webhok', 'list'], /^error: unknown command 'webhok' \(did you mean webhook\?\); see 'tw-cli --help'\n$/],
      [
        ['incident', 'list', '--severity', 'urgent'],
        /^error: option '--severity <S>' argument 'urgent' is invalid\. Allowed choices are critical, high, medium, low, info\.; see 'tw-cli incident list --help'\n$/,
      ],
      [
        ['incident', 'list', '--since', 'yesterday'],
        /^error: --since takes an RFC 3339 time with a zone .* or an age \(30s, 15m, 2h, 7d\), got 'yesterday' \(see --help\)\n$/,
      ],
      [['--api-url', 'ftp://x', 'webhook', 'list'], /^error: the API URL 'ftp:\/\/x' must be http or https \(see --help\)\n$/],
      [['webhook', 'get'], /^error: missing required argument 'source'; see 'tw-cli webhook get --help'\n$/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
      assert.equal(run.stdout, '');
    }
  });

  it('prints completion scripts for bash, zsh and fish, and completes commands, flags and source names', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const script = await cli(['completion', shell]);
      assert.equal(script.code, 0, script.stderr);
      assert.match(script.stdout, /tw-cli complete --/, `${shell} asks tw-cli for the candidates`);
    }
    const words = async (...line: string[]) => (await cli(['complete', '--', ...line])).stdout.split('\n').map((row) => row.split('\t')[0] ?? '');
    assert.ok((await words('web')).includes('webhook'));
    assert.ok((await words('webhook', '')).includes('add'));
    assert.ok((await words('webhook', 'add', 'x', '--')).includes('--secret-file'));
    assert.deepEqual(
      (await words('incident', 'list', '--severity', '')).filter((word) => !word.startsWith(':') && word !== ''),
      ['critical', 'high', 'medium', 'low', 'info'],
    );
    assert.ok((await words('webhook', 'get', '')).includes('phish'), 'source names come from the API');

    // The bash script itself, in a real bash: COMP_WORDS in, COMPREPLY out. The script reads the
    // words with bash-completion's _get_comp_words_by_ref (as kubectl's does); bash-completion is
    // not on every machine, so a stand-in that does what it does for a plain line is defined here.
    const bin = mkdtempSync(join(tmpdir(), 'tw-cli-bin-'));
    writeFileSync(join(bin, 'tw-cli'), `#!/usr/bin/env bash\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    const wordsByRef =
      '_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }';
    const completed = await runProgram(
      'bash',
      [
        '-c',
        `${wordsByRef}; source <(tw-cli completion bash); COMP_WORDS=(tw-cli webhook a); COMP_CWORD=2; __tw_cli_complete 2>/dev/null; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { ...env, PATH: `${bin}:${process.env.PATH}` },
    );
    assert.equal(completed.stdout, 'add\n', completed.stderr);
  });

  it('acknowledges and resolves an incident, by id or number, with who and when; a key without incidents:write is refused', async () => {
    const delivered = await deliver(service.url, 'phish', 'phish-secret', genericAlert('to-acknowledge'));
    assert.equal(delivered.status, 201);
    const number = delivered.body.incident_number as string;

    const reader = (await cli(['apikey', 'create', 'reader', '--scope', 'incidents:read'])).stdout.trim();
    const refused = await cli(['incident', 'acknowledge', number], { TW_API_TOKEN: reader });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /lacks the 'incidents:write' scope \(forbidden\)/);

    const oncall = await cli(['apikey', 'create', 'oncall', '--scope', 'incidents:read', '--scope', 'incidents:write']);
    assert.equal(oncall.code, 0, oncall.stderr);
    const token = oncall.stdout.trim();
    assert.match(token, /^tw_[A-Za-z0-9_-]{43}$/, 'the token alone on stdout');
    assert.match(oncall.stderr, /API key 'oncall' created: id key-\S+, scopes incidents:read,incidents:write, expires never\. The token above is shown once/);

    const acked = await cli(['incident', 'ack', number, '--note', 'looking into it'], { TW_API_TOKEN: token });
    assert.equal(acked.code, 0, acked.stderr);
    assert.equal(acked.stdout, `${number} acknowledged\n`);
    const again = await cli(['incident', 'acknowledge', delivered.body.incident_id, '-o', 'json'], { TW_API_TOKEN: token });
    assert.equal(again.code, 0, 'acknowledging again is harmless');
    const shown = JSON.parse(again.stdout);
    assert.equal(shown.status, 'acknowledged');
    assert.equal(shown.acknowledged.by, 'oncall');
    assert.equal(shown.acknowledged.note, 'looking into it');
    assert.ok(Math.abs(Date.parse(shown.acknowledged.at) - Date.now()) < 60_000);

    assert.equal((await cli(['incident', 'resolve', number], { TW_API_TOKEN: token })).code, 0);
    const backwards = await cli(['incident', 'acknowledge', number], { TW_API_TOKEN: token });
    assert.equal(backwards.code, 1);
    assert.match(backwards.stderr, /is resolved: it cannot be acknowledged again \(conflict\)/);

    const described = await cli(['incident', 'get', number]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Number: +INC-\d{4}-\d{4,}$/m);
    assert.match(described.stdout, /^Acknowledged: +\S+ by oncall: looking into it$/m);
    assert.match(described.stdout, /^Resolved: +\S+ by oncall$/m);
    // The raw body in full, as sent (pretty-printed), not folded.
    assert.ok(described.stdout.includes(JSON.stringify(JSON.parse(genericAlert('to-acknowledge')), null, 2)), described.stdout);
    const resolvedList = JSON.parse((await cli(['incident', 'list', '--status', 'resolved', '-o', 'json'])).stdout);
    assert.deepEqual(
      resolvedList.items.map((item: { incident_number: string }) => item.incident_number),
      [number],
    );
  });

  it("webhook test marks its event as a test: stored, never triaged on an auto-triage source, left out of 'incident list'", async () => {
    const tested = await cli(['webhook', 'test', 'phish', '-o', 'json']);
    assert.equal(tested.code, 0, tested.stdout);
    const number = JSON.parse(tested.stdout).response.incident_number as string;
    const incident = JSON.parse((await cli(['incident', 'get', number, '-o', 'json'])).stdout);
    assert.equal(incident.test, true);
    assert.equal(incident.triage.state, 'none', 'no triage request for a test event');
    const pending = JSON.parse((await cli(['triage', 'list', '-o', 'json'])).stdout);
    assert.ok(!pending.items.some((item: { incident_number: string }) => item.incident_number === number));
    const listed = (await cli(['incident', 'list', '-o', 'json'])).stdout;
    assert.ok(!listed.includes(number), 'not listed by default');
    assert.ok((await cli(['incident', 'list', '--include-tests', '-o', 'json'])).stdout.includes(number));
  });

  it('pages lists: --limit and --cursor, a note on stderr when more exist, --since/--until as times or ages', async () => {
    for (const id of ['page-1', 'page-2', 'page-3']) assert.equal((await deliver(service.url, 'phish', 'phish-secret', genericAlert(id))).status, 201);
    const first = await cli(['incident', 'list', '--limit', '2']);
    assert.equal(first.code, 0, first.stderr);
    const more = /more results exist: tw-cli incident list --cursor (\S+)\n/.exec(first.stderr);
    assert.ok(more, first.stderr);
    const rest = await cli(['incident', 'list', '--limit', '2', '--cursor', more[1]!, '-o', 'json']);
    assert.equal(rest.code, 0, rest.stderr);
    assert.ok(JSON.parse(rest.stdout).items.length >= 1);
    assert.equal((await cli(['incident', 'list', '--since', '1h', '-o', 'json'])).code, 0);
    const none = JSON.parse((await cli(['incident', 'list', '--until', '2000-01-01T00:00:00Z', '-o', 'json'])).stdout);
    assert.deepEqual(none.items, []);
    const recent = JSON.parse((await cli(['incident', 'list', '--since', '10m', '-o', 'json'])).stdout);
    assert.ok(recent.items.length >= 3);

    // The delivery log, newest first, and the triage outbox, with their incident numbers.
    const newest = recent.items[0].incident_number as string;
    const deliveries = await waitFor('the newest delivery in the log', async () => {
      const listed = await cli(['delivery', 'list', '--source', 'phish', '--limit', '2']);
      return listed.stdout.includes(newest) ? listed : undefined;
    });
    assert.match(deliveries.stdout, /^TIME\s+SOURCE\s+STATUS\s+OUTCOME/);
    assert.equal(deliveries.stdout.trim().split('\n').length, 3, 'a header and two rows');
    const pending = await cli(['triage', 'list', '--limit', '50']);
    assert.match(pending.stdout, /^INCIDENT\s+SOURCE\s+PLAYBOOK\s+STATE/);
    assert.match(pending.stdout, new RegExp(`${newest}\\s+phish\\s+phishing_triage\\s+pending`));
  });

  it('webhook get shows every setting; webhook sign signs in every profile the receiver verifies', async () => {
    const described = await cli(['webhook', 'get', 'phish']);
    assert.match(described.stdout, /^Path: +POST \/api\/webhooks\/phish$/m);
    assert.match(described.stdout, /^Tolerance: +300 s$/m);
    assert.match(described.stdout, /^Playbook: +phishing_triage$/m);
    for (const verification of ['hmac-sha256', 'standard-webhooks', 'hmac-body', 'token']) {
      const name = `signed-${verification}`;
      const secret = verification === 'standard-webhooks' ? `whsec_${randomBytes(24).toString('base64')}` : `secret-${verification}-0123456789`;
      assert.equal((await cli(['webhook', 'add', name, '--secret', secret, '--verification', verification])).code, 0);
      const body = genericAlert(name);
      const signed = await cli(['webhook', 'sign', '--secret', secret, '--verification', verification], {}, body);
      assert.equal(signed.code, 0, signed.stderr);
      const headers = signedHeadersOf(signed.stdout);
      const response = await fetch(`${service.url}/api/webhooks/${name}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 201, `${verification}: ${await response.text()} with ${signed.stdout}`);
      assert.equal((await cli(['webhook', 'test', name])).code, 0, `webhook test passes for ${verification}`);
    }
  });
});
