/**
 * Authorization decided per matched route, from one table: generated from src/http/routes.ts, this
 * tries every route × method × credential (none, wrong, revoked, expired, each scope, the bootstrap
 * key) × the path spellings a matcher and a prefix check can disagree on (case, `//`, `/./`, `..`,
 * percent-encoding, trailing slash, `;params`, backslash), over real HTTP against the real service
 * (in-process `start()`, embedded store). Paths are sent byte for byte with node:http: fetch would
 * normalize `/./` and `..` before they reach the server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { start, type Service } from '../../src/start.js';
import { createLogger } from '../../src/log/logger.js';
import { ROUTES, servedOn, tableRouter, type Listener, type Method, type Mode, type RouteHandlers, type RouteRow } from '../../src/http/routes.js';
import { SCOPES, type Scope } from '../../src/apikeys/api-key.js';
import { waitFor } from '../helpers/wait.js';

const BOOTSTRAP = 'tw_matrix_bootstrap_token';
const SOURCE = 'email-gateway';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** A value for each path parameter: names that exist (a file source) or not, so no handler changes anything. */
const PARAMETERS: Record<string, string> = { source: SOURCE, id: 'key-00000000-0000-4000-8000-000000000000', queueId: 'queue-none' };
const rows = ROUTES as readonly RouteRow[];

interface Reply {
  status: number;
  code: string | undefined;
  message: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** One request with the path exactly as given. */
function send(base: URL, method: string, path: string, authorization: string | undefined): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, agent, headers: authorization ? { authorization } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: { error?: { code?: string; message?: string } } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // probes and metrics answer other types
        }
        resolve({ status: res.statusCode ?? 0, code: body.error?.code, message: body.error?.message ?? '' });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A row's path with its parameters filled in. */
function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) => PARAMETERS[name] ?? 'x');
}

/**
 * Spellings of a path that a case-insensitive or prefix-based matcher would take for it. Each is a
 * different path to a strict, case-sensitive router.
 */
function spellings(path: string): Record<string, string> {
  const segments = path.split('/').slice(1);
  const literal = segments.findIndex((segment, index) => index > 0 && !Object.values(PARAMETERS).includes(segment));
  const at = (index: number, replace: (segment: string) => string) => '/' + segments.map((segment, i) => (i === index ? replace(segment) : segment)).join('/');
  const variants: Record<string, string> = {
    'upper case': path.toUpperCase(),
    'first segment capitalized': at(0, (segment) => segment[0]!.toUpperCase() + segment.slice(1)),
    'trailing slash': `${path}/`,
    'leading //': `/${path}`,
    'dot segment': `/${segments[0]}/./${segments.slice(1).join('/')}`,
    'dot-dot segment': `/${segments[0]}/x/../${segments.slice(1).join('/')}`,
    'percent-encoded letter': at(0, (segment) => `%${segment.charCodeAt(0).toString(16)}${segment.slice(1)}`),
    'percent-encoded upper-case letter': at(0, (segment) => `%${segment.charCodeAt(0).toString(16).toUpperCase()}${segment.slice(1)}`),
    ';params on the first segment': at(0, (segment) => `${segment};x=1`),
    ';params at the end': `${path};x=1`,
    backslash: path.replace(/\/([^/]*)$/, '\\$1'),
  };
  if (segments.length > 1) {
    variants['// inside'] = `/${segments[0]}//${segments.slice(1).join('/')}`;
    variants['encoded slash'] = `/${segments[0]}%2F${segments.slice(1).join('/')}`;
    variants['encoded lower-case slash'] = `/${segments[0]}%2f${segments.slice(1).join('/')}`;
  }
  if (literal > 0) variants['later segment upper case'] = at(literal, (segment) => segment.toUpperCase());
  return variants;
}

type Credential = { name: string; authorization: string | undefined; scopes: readonly Scope[] };

/** No route matched, or node's parser refused the request target before any routing. */
const routeMiss = (reply: Reply) =>
  (reply.status === 404 && reply.code === 'not_found' && reply.message.startsWith('No route for')) ||
  (reply.status === 400 && reply.code === 'bad_request' && reply.message.startsWith('Malformed request target'));
const grants = (credential: Credential, scope: Scope) => credential.scopes.includes('admin') || credential.scopes.includes(scope);

describe('authorization: every route of the table, each method, credential and path spelling', () => {
  let service: Service;
  let base: URL;
  const credentials: Credential[] = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-matrix-'));
    const config = join(dir, 'webhook_config.yaml');
    writeFileSync(config, `sources:\n  ${SOURCE}:\n    secret: "matrix-secret-0123456789"\n`);
    service = await start({
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        TW_CONFIG: config,
        TW_DATA_DIR: join(dir, 'data'),
        TW_API_TOKEN: BOOTSTRAP,
        TW_INLINE_BUDGET_MS: '0',
        // Both listeners: PORT with every route, the receiver's own with only what senders need.
        TW_RECEIVER_PORT: '0',
        // Thousands of unsigned receiver requests from one address: the failure limits are not this test's subject.
        TW_ADDRESS_FAILURES_BURST: '1000000',
        TW_SOURCE_FAILURES_BURST: '1000000',
      },
      logger: createLogger('silent'),
    });
    base = new URL(service.url);
    const admin = `Bearer ${BOOTSTRAP}`;
    const create = async (name: string, scopes: Scope[], extra: Record<string, unknown> = {}) => {
      const response = await fetch(`${service.url}/api/apikeys`, {
        method: 'POST',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: JSON.stringify({ name, scopes, ...extra }),
      });
      assert.equal(response.status, 201, `creating the ${name} key`);
      return (await response.json()) as { id: string; token: string };
    };
    const expiring = await create('expiring', ['admin'], { expires_at: new Date(Date.now() + 1500).toISOString() });
    const revoked = await create('revoked', ['admin']);
    assert.equal((await fetch(`${service.url}/api/apikeys/${revoked.id}`, { method: 'DELETE', headers: { authorization: admin } })).status, 204);
    credentials.push(
      { name: 'no key', authorization: undefined, scopes: [] },
      { name: 'not a Bearer header', authorization: BOOTSTRAP, scopes: [] },
      { name: 'a wrong key', authorization: 'Bearer tw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', scopes: [] },
      { name: 'a revoked admin key', authorization: `Bearer ${revoked.token}`, scopes: [] },
      { name: 'an expired admin key', authorization: `Bearer ${expiring.token}`, scopes: [] },
      { name: 'the bootstrap key', authorization: admin, scopes: ['admin'] },
    );
    for (const scope of SCOPES) credentials.push({ name: `a ${scope} key`, authorization: `Bearer ${(await create(scope, [scope])).token}`, scopes: [scope] });
    await waitFor(async () => (await send(base, 'GET', '/api/apikeys', `Bearer ${expiring.token}`)).status === 401, {
      message: 'the expiring key to expire',
      timeoutMs: 10_000,
    });
  });

  after(async () => {
    agent.destroy();
    await service?.stop();
  });

  it('refuses the case-changed admin bypass: POST /API/apikeys and GET /API/APIKEYS without a key', async () => {
    const before = (await (await fetch(`${service.url}/api/apikeys`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } })).json()) as { items: unknown[] };
    const minted = await fetch(`${service.url}/API/apikeys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'intruder', scopes: ['admin'] }),
    });
    assert.equal(minted.status, 404);
    assert.equal(((await minted.json()) as { error: { code: string } }).error.code, 'not_found');
    const listed = await fetch(`${service.url}/API/APIKEYS`);
    assert.equal(listed.status, 404);
    assert.doesNotMatch(await listed.text(), /key-/);
    const after = (await (await fetch(`${service.url}/api/apikeys`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } })).json()) as { items: unknown[] };
    assert.equal(after.items.length, before.items.length, 'no key was minted');
  });

  it('answers each row on its canonical path: 401 without a valid key, 403 without the scope, the handler with it', async (t) => {
    let tried = 0;
    for (const row of rows) {
      const path = concrete(row.path);
      for (const credential of credentials) {
        const reply = await send(base, row.method, path, credential.authorization);
        tried++;
        const where = `${row.method} ${path} with ${credential.name}: ${reply.status} ${reply.code ?? ''} ${reply.message}`;
        if (row.access === 'public') {
          assert.ok(reply.status === 200 || (row.id === 'readyz' && reply.status === 503), where);
        } else if (row.access === 'signed') {
          // An API key is no signature, whatever its scopes.
          assert.equal(reply.status, 401, where);
          assert.match(reply.code ?? '', /^invalid_(timestamp|signature)$/, where);
        } else if (credential.scopes.length === 0) {
          assert.equal(reply.status, 401, where);
          assert.equal(reply.code, 'unauthorized', where);
        } else if (!grants(credential, row.access.scope)) {
          assert.equal(reply.status, 403, where);
          assert.equal(reply.code, 'forbidden', where);
        } else {
          assert.ok(![401, 403].includes(reply.status) && !routeMiss(reply), `the handler should run: ${where}`);
        }
      }
    }
    assert.equal(tried, rows.length * credentials.length);
    t.diagnostic(`${tried} requests: ${rows.length} routes × ${credentials.length} credentials`);
  });

  it('never lets a spelling of a path past its route check, and answers other spellings as no route', async (t) => {
    let tried = 0;
    for (const row of rows) {
      for (const [spelling, path] of Object.entries(spellings(concrete(row.path)))) {
        for (const credential of credentials) {
          const reply = await send(base, row.method, path, credential.authorization);
          tried++;
          const where = `${row.method} ${path} (${spelling}) with ${credential.name}: ${reply.status} ${reply.code ?? ''} ${reply.message}`;
          // Whatever the spelling matched (no route, or a route whose own check ran), a credential
          // without the row's scope gets nothing but a refusal.
          const allowed = typeof row.access === 'string' || grants(credential, row.access.scope);
          if (!allowed) assert.ok([401, 403, 404, 405].includes(reply.status) || routeMiss(reply), where);
          if (row.access === 'signed') assert.ok(reply.status >= 400, `no signature, no incident: ${where}`);
          // A spelling that only differs in its fixed part is no route at all.
          if (!['backslash', ';params at the end', 'encoded slash', 'encoded lower-case slash'].includes(spelling) || !row.path.includes(':')) {
            assert.ok(routeMiss(reply), `should match no route: ${where}`);
          }
        }
      }
    }
    assert.ok(tried > 3000, `${tried} requests`);
    t.diagnostic(`${tried} requests: routes × path spellings × credentials`);
  });

  it('refuses methods a path does not declare, with no key or any key, under every spelling', async (t) => {
    const declared = new Map<string, Set<Method>>();
    for (const row of rows) (declared.get(row.path) ?? declared.set(row.path, new Set()).get(row.path)!).add(row.method);
    let tried = 0;
    for (const [template, methods] of declared) {
      const path = concrete(template);
      for (const method of METHODS) {
        if (methods.has(method as Method) || (method === 'HEAD' && methods.has('GET'))) continue;
        for (const candidate of [path, ...Object.values(spellings(path))]) {
          for (const credential of credentials) {
            const reply = await send(base, method, candidate, credential.authorization);
            tried++;
            const where = `${method} ${candidate} with ${credential.name}: ${reply.status} ${reply.code ?? ''}`;
            if (method === 'OPTIONS') {
              assert.ok(reply.status === 200 || [401, 403, 404].includes(reply.status) || routeMiss(reply), where);
            } else if (!rows.some((other) => other.method === method && typeof other.access !== 'string' && grants(credential, other.access.scope))) {
              // A spelling may reach another row of this method (`…\test` is a `:source`), never past its check.
              assert.ok([401, 403, 404, 405].includes(reply.status) || routeMiss(reply), where);
            }
            if (candidate === path && method !== 'OPTIONS') assert.equal(reply.status, 405, `the declared path refuses the method: ${where}`);
          }
        }
      }
    }
    assert.ok(tried > 3000, `${tried} requests`);
    t.diagnostic(`${tried} requests: paths × undeclared methods × spellings × credentials`);
  });

  it('answers each row only on the listeners that serve it: the receiver listener has the receiver and the probes, nothing else', async (t) => {
    const listeners: [Listener, URL][] = [
      ['main', base],
      ['receiver', new URL(service.receiver!.url)],
    ];
    let tried = 0;
    for (const row of rows) {
      const path = concrete(row.path);
      for (const [listener, target] of listeners) {
        const served = servedOn(row.plane, listener, 'all');
        // Another row of the same path served here answers the method with 405 (and Allow), no more.
        const pathServed = rows.some((other) => other.path === row.path && servedOn(other.plane, listener, 'all'));
        for (const credential of credentials) {
          const reply = await send(target, row.method, path, credential.authorization);
          tried++;
          const where = `${row.method} ${path} on the ${listener} listener with ${credential.name}: ${reply.status} ${reply.code ?? ''} ${reply.message}`;
          if (served) assert.ok(!routeMiss(reply) && reply.status !== 405, `served: ${where}`);
          else if (pathServed) assert.equal(reply.status, 405, where);
          else assert.ok(routeMiss(reply), `no route: ${where}`);
          if (listener === 'receiver') assert.ok(reply.status !== 200 || row.plane === 'probe', `only probes answer 200 there: ${where}`);
        }
      }
    }
    assert.equal(tried, rows.length * listeners.length * credentials.length);
    t.diagnostic(`${tried} requests: ${rows.length} routes × 2 listeners × ${credentials.length} credentials`);
  });

  it('answers paths no row declares with 404 for every credential', async () => {
    for (const path of ['/api', '/api/', '/api/nothing', '/api/apikeys/x/y', '/api/webhooks/x/y/z', '/API', '/', '/healthz/x']) {
      for (const method of METHODS) {
        for (const credential of credentials) {
          const reply = await send(base, method, path, credential.authorization);
          assert.equal(reply.status, 404, `${method} ${path} with ${credential.name}: ${reply.status} ${reply.code ?? ''}`);
        }
      }
    }
  });
});

describe('where each route is served, by listener and mode', () => {
  /** docs/configuration.md, "Listeners and planes": the routes each listener serves in each mode. */
  const expected: Record<Mode, Record<Listener, (row: RouteRow) => boolean>> = {
    all: { main: () => true, receiver: (row) => ['webhooks.receive', 'healthz', 'readyz'].includes(row.id) },
    receiver: {
      main: (row) => ['healthz', 'readyz', 'metrics'].includes(row.id),
      receiver: (row) => ['webhooks.receive', 'healthz', 'readyz'].includes(row.id),
    },
    control: { main: (row) => row.id !== 'webhooks.receive', receiver: () => false },
  };

  it('serves every row exactly where the table says, on every listener of every mode', () => {
    for (const mode of ['all', 'receiver', 'control'] as const) {
      for (const listener of ['main', 'receiver'] as const) {
        for (const row of rows) assert.equal(servedOn(row.plane, listener, mode), expected[mode][listener](row), `${row.id} on ${listener} in ${mode}`);
      }
    }
  });

  it('never serves a keyed route or the metrics on the receiver listener', () => {
    for (const mode of ['all', 'receiver', 'control'] as const) {
      for (const row of rows.filter((row) => servedOn(row.plane, 'receiver', mode))) {
        assert.ok(typeof row.access === 'string', `${row.id} needs no key`);
        assert.notEqual(row.id, 'metrics');
      }
    }
  });
});

describe('the route table is the only way to serve a route', () => {
  it('builds a router whose routes are exactly the rows', () => {
    const noop = () => undefined;
    const handlers = Object.fromEntries(rows.map((row) => [row.id, noop])) as unknown as RouteHandlers;
    const router = tableRouter(
      handlers,
      () => undefined,
      () => true,
    );
    const served = router.stack.map((layer) => `${layer.methods.filter((method) => method !== 'HEAD').join(',')} ${layer.path}`).sort();
    assert.deepEqual(served, rows.map((row) => `${row.method} ${row.path}`).sort());
  });

  it('has no router, prefix middleware or path test outside src/http/routes.ts', () => {
    const src = join(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'))) {
      const name = relative(src, join(src, file));
      if (name === join('http', 'routes.ts')) continue;
      const text = readFileSync(join(src, file), 'utf8');
      if (/from '@koa\/router'/.test(text) || /ctx\.(path|url|originalUrl)\s*(===|\.startsWith)/.test(text)) offenders.push(name);
    }
    assert.deepEqual(offenders, []);
  });
});
