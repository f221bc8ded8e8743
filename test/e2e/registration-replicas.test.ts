/**
 * Sources registered through the API on MongoDB: two replicas share the database, a registration
 * on one is served by the other within seconds, and the collection holds no plain-text secret.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { startService, type RunningService } from '../helpers/service.js';
import { deliver, genericAlert, TEST_TOKEN, waitFor } from '../helpers/api-client.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { CLI, twCli } from '../helpers/cli.js';
import { needs } from '../helpers/servers.js';
import { childEnv } from '../helpers/child-env.js';

await needs('mongo');

const SECRET = 'replicated-secret-5e6f7a8b';

describe('registration across replicas (MongoDB)', () => {
  let uri: string;
  let replicas: RunningService[] = [];

  before(async () => {
    uri = freshMongoUri('tw_registration');
    const env = { MONGODB_URI: uri, TW_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    replicas = await Promise.all([startService({ config: 'sources: {}\n', env }), startService({ config: 'sources: {}\n', env })]);
  });
  after(() => Promise.all(replicas.map((replica) => replica.stop())));

  it('a source added on one replica is accepted by the other within seconds; removed, it is unknown there too', async () => {
    const [first, second] = replicas as [RunningService, RunningService];
    const added = await twCli(['webhook', 'add', 'siem', '--secret', SECRET], { TW_API_URL: first.url, TW_API_TOKEN: TEST_TOKEN });
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await deliver(first.url, 'siem', SECRET, genericAlert('on-first'))).status, 201, 'the writing replica serves it at once');

    const started = Date.now();
    await waitFor(
      'the other replica to serve the source',
      async () => {
        const reply = await deliver(second.url, 'siem', SECRET, genericAlert(`on-second-${Date.now()}`));
        return reply.status === 201 ? reply : undefined;
      },
      10_000,
      100,
    );
    assert.ok(Date.now() - started < 5_000, `served by the second replica after ${Date.now() - started} ms`);

    const keys = await twCli(['apikey', 'create', 'replicated', '--scope', 'logs:read'], { TW_API_URL: first.url, TW_API_TOKEN: TEST_TOKEN });
    const logs = await twCli(['logs', '--tail', '5'], { TW_API_URL: second.url, TW_API_TOKEN: keys.stdout.trim() });
    assert.equal(logs.code, 0, 'a key created on one replica works on the other');

    assert.equal((await twCli(['webhook', 'remove', 'siem'], { TW_API_URL: second.url, TW_API_TOKEN: TEST_TOKEN })).code, 0);
    await waitFor(
      'the first replica to drop the source',
      async () => {
        const reply = await deliver(first.url, 'siem', SECRET, genericAlert(`after-${Date.now()}`));
        return reply.status === 404 && reply.body.error.code === 'unknown_source' ? reply : undefined;
      },
      10_000,
      100,
    );
  });

  it("logs --follow on one replica shows another replica's deliveries (through the store, within seconds)", async () => {
    const [first, second] = replicas as [RunningService, RunningService];
    const env = { TW_API_URL: second.url, TW_API_TOKEN: TEST_TOKEN };
    assert.equal((await twCli(['webhook', 'add', 'follow-src', '--secret', SECRET], env)).code, 0);
    const follower = spawn(process.execPath, [CLI, 'logs', '--follow', '--source', 'follow-src', '-o', 'json'], {
      env: childEnv(env),
    });
    let streamed = '';
    follower.stdout.on('data', (chunk) => (streamed += String(chunk)));
    try {
      const accepted = await waitFor('the first replica to serve the source', async () => {
        const reply = await deliver(first.url, 'follow-src', SECRET, genericAlert(`followed-${Date.now()}`));
        return reply.status === 201 ? reply : undefined;
      });
      await waitFor("the other replica's delivery in the stream", async () => (streamed.includes(accepted.body.incident_id) ? true : undefined), 15_000);
    } finally {
      follower.kill();
    }
  });

  it('the registered_sources collection holds sealed secrets only', async () => {
    assert.equal((await twCli(['webhook', 'add', 'edr', '--secret', SECRET], { TW_API_URL: replicas[0]!.url, TW_API_TOKEN: TEST_TOKEN })).code, 0);
    const client = new MongoClient(uri);
    try {
      const documents = await client.db().collection('registered_sources').find().toArray();
      assert.equal(documents.length, 2);
      const raw = JSON.stringify(documents);
      assert.equal(raw.includes(SECRET), false);
      assert.equal(raw.includes(Buffer.from(SECRET).toString('base64')), false);
      for (const document of documents) assert.match(String(document.secret), /^aes256gcm:v1:/);
      const keys = JSON.stringify(await client.db().collection('api_keys').find().toArray());
      assert.ok(!keys.includes('"token"'), 'API keys are stored as hashes');
    } finally {
      await client.close();
    }
  });
});
