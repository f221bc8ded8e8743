/**
 * Informer supervision against a scripted API server. A fake on purpose, and only for faults the
 * real kube-apiserver cannot be made to produce on demand: a watch that goes silent without
 * closing (a proxy swallowing the connection), a resourceVersion expired mid-watch (410 Gone
 * before compaction would do it), and list errors. Everything else runs against the real server.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { waitFor } from '../helpers/api-client.js';
import { Informer, type InformerEvent, type InformerTiming } from '../../src/kubernetes/informer.js';
import { KubeClient } from '../../src/kubernetes/kube-client.js';

interface Script {
  lists: number;
  watches: number;
  listStatus: number;
  items: { metadata: { namespace: string; name: string; resourceVersion: string } }[];
  onWatch: (res: ServerResponse, query: URLSearchParams) => void;
}

const script: Script = { lists: 0, watches: 0, listStatus: 200, items: [], onWatch: () => undefined };
const openWatches: ServerResponse[] = [];
let url = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const query = new URL(req.url!, 'http://x').searchParams;
  if (query.get('watch') === 'true') {
    script.watches += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    openWatches.push(res);
    script.onWatch(res, query);
    return;
  }
  script.lists += 1;
  res.writeHead(script.listStatus, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify(
      script.listStatus === 200
        ? { items: script.items, metadata: { resourceVersion: String(100 + script.lists) } }
        : { kind: 'Status', code: script.listStatus, message: 'scripted failure' },
    ),
  );
});

before(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  url = `http://127.0.0.1:${address.port}`;
});
after(async () => {
  for (const res of openWatches) res.destroy();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

const timing: InformerTiming = { watchTimeoutSeconds: 60, watchStallMs: 600, resyncMs: 60_000, backoffInitialMs: 50, backoffMaxMs: 200, pageSize: 500 };
const item = (name: string, resourceVersion: string) => ({ metadata: { namespace: 'ns', name, resourceVersion } });

function informer(restarts: string[]) {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  const events: InformerEvent[] = [];
  const subject = new Informer({
    resource: 'things',
    client: new KubeClient(kubeConfig, 2_000),
    path: '/api/v1/things',
    transform: (raw) => {
      const metadata = raw.metadata as { namespace: string; name: string; resourceVersion: string };
      return { namespace: metadata.namespace, name: metadata.name, resourceVersion: metadata.resourceVersion };
    },
    timing,
    health: { synced: () => undefined, restarted: (resource) => restarts.push(resource), listed: () => undefined },
    logger: pino({ level: 'silent' }),
  });
  subject.onEvent((event) => events.push(event));
  return { subject, events };
}

describe('informer supervision', () => {
  it('drops a watch that went silent and watches again from the last resourceVersion', async () => {
    Object.assign(script, { lists: 0, watches: 0, listStatus: 200, items: [item('a', '1')] });
    const seenVersions: (string | null)[] = [];
    script.onWatch = (res, query) => {
      seenVersions.push(query.get('resourceVersion'));
      if (script.watches === 1) res.write(`${JSON.stringify({ type: 'ADDED', object: item('b', '150') })}\n`);
      // then nothing, never closing: a stalled connection
    };
    const restarts: string[] = [];
    const { subject, events } = informer(restarts);
    subject.start();
    try {
      await waitFor('a second watch', async () => (script.watches >= 2 ? true : undefined), 5_000, 20);
      assert.equal(script.lists, 1, 'a stall re-watches, it does not relist');
      assert.deepEqual(seenVersions.slice(0, 2), ['101', '150']);
      assert.ok(restarts.length >= 1);
      assert.deepEqual(events.slice(0, 2), [
        { type: 'upsert', key: 'ns/a' },
        { type: 'upsert', key: 'ns/b' },
      ]);
      assert.ok(subject.get('ns/b'));
    } finally {
      await subject.stop();
    }
  });

  it('relists on 410 Gone and tells handlers what vanished meanwhile', async () => {
    Object.assign(script, { lists: 0, watches: 0, listStatus: 200, items: [item('a', '1'), item('b', '2')] });
    script.onWatch = (res) => {
      if (script.watches === 1) {
        script.items = [item('a', '1')];
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`);
      }
    };
    const { subject, events } = informer([]);
    subject.start();
    try {
      await waitFor('a relist', async () => (script.lists >= 2 ? true : undefined), 5_000, 20);
      await waitFor('the delete', async () => events.find((event) => event.type === 'delete' && event.key === 'ns/b'), 2_000, 20);
      assert.equal(subject.get('ns/b'), undefined);
      assert.ok(subject.get('ns/a'));
    } finally {
      await subject.stop();
    }
  });

  it('keeps the cache through failing lists and retries with backoff until the server answers', async () => {
    Object.assign(script, { lists: 0, watches: 0, listStatus: 200, items: [item('a', '1')] });
    script.onWatch = (res) => {
      // The server goes away: the watch ends and lists fail for a while.
      script.listStatus = 503;
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'gone' } })}\n`);
    };
    const { subject } = informer([]);
    subject.start();
    try {
      await waitFor('failing lists', async () => (script.lists >= 4 ? true : undefined), 5_000, 20);
      assert.equal(subject.synced(), true);
      assert.ok(subject.get('ns/a'), 'the last known object is still served');
      script.onWatch = () => undefined;
      script.items = [item('a', '1'), item('c', '3')];
      script.listStatus = 200;
      await waitFor('the change after the outage', async () => subject.get('ns/c'), 5_000, 20);
    } finally {
      await subject.stop();
    }
  });
});
