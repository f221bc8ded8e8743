// servers: none
/**
 * The operator surface end to end: the real `tw-cli` binary against the real service process
 * (embedded store): API keys and scopes, registration, deliveries, the delivery log, test events,
 * secret rotation, removal, and what the store keeps on disk.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, genericAlert, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { CLI, twCli } from '../helpers/cli.js';

const SECRET = 'email-gateway-secret-9f8e7d6c5b4a';
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

    const again = await cli(['webhook', 'add', 'email-gateway', '--secret', 'other']);
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
      'f-secret',
      '--filter-match',
      'payload.data.severity != "low"',
      '--filter-label',
      'team=payload.data.team',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const shown = JSON.parse((await cli(['webhook', 'get', 'filtered', '-o', 'json'])).stdout);
    assert.deepEqual(shown.filter, { match: 'payload.data.severity != "low"', labels: { team: 'payload.data.team' } });
    assert.deepEqual((await deliver(service.url, 'filtered', 'f-secret', genericAlert('cli-low', 'low'))).body, { status: 'filtered' });
    const refused = await cli(['webhook', 'add', 'refused', '--secret', 's', '--filter-severity', 'incident.severity.lowerAscii()']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /filter\.severity: unknown function 'lowerAscii' \(bad_request\)/);
    const malformed = await cli(['webhook', 'add', 'refused', '--secret', 's', '--filter-label', 'no-expression']);
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
      return logs.stdout.includes('invalid_signature') && logs.stdout.includes(accepted.body.incident_id) ? logs.stdout : undefined;
    });
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /^TIME\s+SOURCE\s+STATUS\s+CODE\s+LATENCY\s+INCIDENT/);
    assert.ok(
      lines.some((line) => /email-gateway\s+201\s+ok\s+[0-9.]+ms\s+/.test(line) && line.includes(accepted.body.incident_id)),
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
      env: { PATH: process.env.PATH ?? '', ...env, TW_API_TOKEN: TEST_TOKEN },
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
    const headers = Object.fromEntries(
      signed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
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

    // A source pinned to CrowdStrike rejects the generic test event as invalid_payload.
    assert.equal((await cli(['webhook', 'add', 'edr', '--secret', 'edr-secret', '--format', 'crowdstrike'])).code, 0);
    const rejected = await cli(['webhook', 'test', 'edr']);
    assert.equal(rejected.code, 6, rejected.stderr);
    assert.match(rejected.stdout, /^rejected: HTTP 400 invalid_payload/);

    const unknown = await cli(['webhook', 'test', 'nope']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /is not registered \(unknown_source\)/);
  });

  it('rotates the secret through PATCH: both secrets verify during the grace period, then only the new one', async () => {
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

  it('keeps no secret in plain text in the store files or the logs', async () => {
    assert.equal((await cli(['webhook', 'add', 'siem', '--secret', SECRET])).code, 0);
    const files = readdirSync(service.dataDir).map((file) => join(service.dataDir, file));
    assert.ok(
      files.some((file) => file.endsWith('tw-webhooks.sqlite')),
      `store files: ${files.join(', ')}`,
    );
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of [SECRET, ROTATED, 'edr-secret']) {
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
  it('refuses to store a secret without TW_ENCRYPTION_KEY outside development mode, and says how', async () => {
    const service = await startService({ config: 'sources: {}\n' });
    try {
      const added = await twCli(['webhook', 'add', 'siem', '--secret', 's'], { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN });
      assert.equal(added.code, 1);
      assert.match(added.stderr, /TW_ENCRYPTION_KEY is not set.*TW_DEV_MODE=true.*\(unavailable\)/);
    } finally {
      await service.stop();
    }
  });

  it('turns registration off with TW_REGISTRATION_API=false (405) while listing and test events still work', async () => {
    const service = await startService({
      config: 'sources:\n  siem:\n    secret: file-secret\n',
      env: { TW_REGISTRATION_API: 'false', TW_DEV_MODE: 'true' },
    });
    try {
      const env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
      const added = await twCli(['webhook', 'add', 'edr', '--secret', 's'], env);
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
    const service = await startService({ config: 'sources:\n  siem:\n    secret: file-secret\n', env: { TW_DEV_MODE: 'true' } });
    try {
      const env = { TW_API_URL: service.url, TW_API_TOKEN: TEST_TOKEN };
      const added = await twCli(['webhook', 'add', 'siem', '--secret', 's'], env);
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
      assert.equal((await twCli(['webhook', 'add', 'edr', '--secret', 's'], env)).code, 0);
      const incomplete = await twCli(['webhook', 'update', 'edr', '--auto-triage'], env);
      assert.equal(incomplete.code, 1);
      assert.match(incomplete.stderr, /playbook is required when auto_triage is true \(bad_request\)/);
    } finally {
      await service.stop();
    }
  });
});
