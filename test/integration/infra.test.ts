/**
 * The servers `npm test` starts are the real things: an API server that enforces our CRD's schema
 * and CEL rules, a MongoDB-wire server with the semantics the store relies on, a helm v3, and an
 * `npm run infra` whose `down` leaves no process behind.
 */
// servers: kube, mongo, helm
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import { MongoClient, MongoServerError } from 'mongodb';
import { isOurs } from '../infra/process.js';
import { readState } from '../infra/state.js';
import { createTestNamespace, helmBin, kubeFromEnv, kubectlBin, mongoFromEnv } from '../helpers/servers.js';

const run = promisify(execFile);
const crdFile = 'crds/triagewarden.io_webhooksources.yaml';
const webhookSources = { group: 'triagewarden.io', version: 'v1alpha1', plural: 'webhooksources' };

function webhookSource(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'triagewarden.io/v1alpha1', kind: 'WebhookSource', metadata: { name }, spec };
}

/** The API server's 422 carries each violated rule's message in the Status body. */
async function assertRejected(request: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(request, (error: unknown) => {
    assert.ok(error instanceof ApiException, `expected an API error, got ${String(error)}`);
    assert.equal(error.code, 422);
    assert.match(String(error.body), message);
    return true;
  });
}

describe('the Kubernetes API server', () => {
  const customObjects = () => kubeFromEnv().makeApiClient(CustomObjectsApi);
  let namespace: string;

  before(async () => {
    await run(kubectlBin(), ['apply', '-f', crdFile]);
    await run(kubectlBin(), ['wait', '--for=condition=Established', 'crd/webhooksources.triagewarden.io', '--timeout=60s']);
    namespace = await createTestNamespace();
  });

  it('is a real kube-apiserver of a current minor, as kubectl reports', async () => {
    const { stdout } = await run(kubectlBin(), ['version', '--output=json']);
    const { serverVersion } = JSON.parse(stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    assert.equal(serverVersion.major, '1');
    assert.ok(Number.parseInt(serverVersion.minor, 10) >= 30, `server is ${serverVersion.gitVersion}`);
    assert.match(serverVersion.gitVersion, /^v1\.\d+\.\d+/);
  });

  it('accepts a valid WebhookSource and fills in the schema defaults', async () => {
    const created = await customObjects().createNamespacedCustomObject({
      ...webhookSources, namespace,
      body: webhookSource('email-gateway', {
        sourceName: 'email-gateway', secretRef: { name: 'email-gateway' }, autoTriage: true, playbook: 'phishing',
        severityMapping: { sev1: 'critical' }, rateLimit: { requestsPerSecond: 10, burst: 20 },
      }),
    }) as { spec: Record<string, unknown> };
    assert.equal(created.spec.verification, 'hmac-sha256');
    assert.equal(created.spec.toleranceSeconds, 300);
    assert.deepEqual(created.spec.secretRef, { name: 'email-gateway', key: 'secret' });
  });

  it('rejects autoTriage without a playbook with the CEL rule\'s message', async () => {
    await assertRejected(customObjects().createNamespacedCustomObject({
      ...webhookSources, namespace,
      body: webhookSource('no-playbook', { sourceName: 'no-playbook', secretRef: { name: 's' }, autoTriage: true }),
    }), /playbook is required when autoTriage is true/);
  });

  it('rejects a burst below requestsPerSecond with the CEL rule\'s message', async () => {
    await assertRejected(customObjects().createNamespacedCustomObject({
      ...webhookSources, namespace,
      body: webhookSource('low-burst', { sourceName: 'low-burst', secretRef: { name: 's' }, rateLimit: { requestsPerSecond: 10, burst: 5 } }),
    }), /rateLimit\.burst must be at least rateLimit\.requestsPerSecond/);
  });

  it('rejects a tolerance outside the schema bounds', async () => {
    await assertRejected(customObjects().createNamespacedCustomObject({
      ...webhookSources, namespace,
      body: webhookSource('short-tolerance', { sourceName: 'short-tolerance', secretRef: { name: 's' }, toleranceSeconds: 5 }),
    }), /toleranceSeconds.*greater than or equal to 30/);
  });

  it('keeps sourceName immutable, since senders are configured with the URL', async () => {
    const api = customObjects();
    const body = webhookSource('renamed', { sourceName: 'renamed', secretRef: { name: 's' } });
    await api.createNamespacedCustomObject({ ...webhookSources, namespace, body });
    const current = await api.getNamespacedCustomObject({ ...webhookSources, namespace, name: 'renamed' }) as typeof body;
    await assertRejected(api.replaceNamespacedCustomObject({
      ...webhookSources, namespace, name: 'renamed', body: { ...current, spec: { ...current.spec, sourceName: 'other' } },
    }), /sourceName is immutable/);
  });
});

describe('the MongoDB-wire server', () => {
  const { uri, database } = mongoFromEnv('tw_infra');
  const client = new MongoClient(uri);
  after(() => client.close());

  it('rejects a duplicate key of a unique index with code 11000', async () => {
    const incidents = client.db(database).collection('incidents');
    await incidents.createIndex({ dedupeKey: 1 }, { unique: true });
    await incidents.insertOne({ dedupeKey: 'k1' });
    await assert.rejects(incidents.insertOne({ dedupeKey: 'k1' }), (error: unknown) => {
      assert.ok(error instanceof MongoServerError);
      assert.equal(error.code, 11000);
      return true;
    });
  });

  it('upserts a counter with $inc and returns the document after the update', async () => {
    const counters = client.db(database).collection<{ _id: string; seq: number }>('counters');
    const next = () => counters.findOneAndUpdate({ _id: 'INC-2026' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    assert.equal((await next())?.seq, 1);
    assert.equal((await next())?.seq, 2);
  });
});

describe('helm', () => {
  it('answers `helm version` with a v3 release', async () => {
    const { stdout } = await run(helmBin(), ['version', '--short']);
    assert.match(stdout, /^v3\.\d+\.\d+/);
  });
});

describe('npm run infra', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tw-infra-test-'));
  const { MONGODB_URI: _ignored, ...envWithoutMongo } = process.env;
  const infra = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'test/infra/cli.ts', ...args], { env: { ...envWithoutMongo, TW_INFRA_STATE_DIR: stateDir } });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it('starts FerretDB with `up mongo`, prints its URI, and `down` leaves no process or folder behind', async () => {
    const { stdout } = await infra('up', 'mongo');
    const uri = /^export MONGODB_URI='(.+)'$/m.exec(stdout)?.[1];
    assert.ok(uri, `no MONGODB_URI in: ${stdout}`);
    const client = new MongoClient(uri);
    try {
      assert.deepEqual(await client.db('admin').command({ ping: 1 }), { ok: 1 });
    } finally {
      await client.close();
    }
    const [started] = readState(stateDir);
    assert.ok(started && started.servers.length > 0 && started.workDir);

    await infra('down');
    for (const server of started.servers) assert.equal(isOurs(server), false, `${server.name} (pid ${server.pid}) still runs`);
    assert.equal(existsSync(started.workDir), false);
    assert.deepEqual(readState(stateDir), []);
  });
});
