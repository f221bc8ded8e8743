/**
 * GitOps tools see readiness: the Argo CD health check of docs/kubernetes.md (the very `argocd-cm`
 * block there), run by a Lua 5.1 interpreter (Argo CD's gopher-lua is Lua 5.1), on WebhookSources
 * the controller wrote on the real API server and kubectl read back as JSON: Ready, a missing
 * Secret, suspended, a name conflict, and objects not observed yet (new, or edited while the
 * service was down).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { waitFor } from '../helpers/api-client.js';
import {
  apply,
  condition,
  getWebhookSource,
  installCrd,
  kubectl,
  kubernetesEnv,
  secret,
  webhookSource,
  type WebhookSourceJson,
} from '../helpers/kube-sources.js';
import { createTestNamespace, needs } from '../helpers/servers.js';
import { startService } from '../helpers/service.js';

await needs('kube');

const run = promisify(execFile);
const DOC = resolve(import.meta.dirname, '../../docs/kubernetes.md');
const HEALTH_KEY = 'resource.customizations.health.triagewarden.io_WebhookSource';
const LUA = 'lua5.1';

/** The health script from the docs' argocd-cm block. */
function healthScript(): string {
  const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const configMaps = blocks.filter((block) => block.includes(HEALTH_KEY));
  assert.equal(configMaps.length, 1, `one argocd-cm block with ${HEALTH_KEY} in docs/kubernetes.md`);
  const configMap = parseYaml(configMaps[0]!) as { metadata: { name: string }; data: Record<string, string> };
  assert.equal(configMap.metadata.name, 'argocd-cm');
  return configMap.data[HEALTH_KEY]!;
}

/** A JSON value as a Lua table constructor, the way Argo CD hands `obj` to the script (arrays 1-based, null absent). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  // JSON's escapes are Lua's, except \uXXXX: Lua 5.1 spells a byte \ddd.
  if (typeof value === 'string')
    return JSON.stringify(value).replace(/\\u([0-9a-f]{4})/gi, (_, hex: string) =>
      [...Buffer.from(String.fromCharCode(parseInt(hex, 16)), 'utf8')].map((byte) => `\\${String(byte).padStart(3, '0')}`).join(''),
    );
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([key, item]) => `[${JSON.stringify(key)}] = ${toLua(item)}`)
    .join(', ')}}`;
}

/** Argo CD's verdict on one object: the script's returned `hs`. */
async function health(script: string, object: WebhookSourceJson): Promise<{ status: string; message: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-argocd-health-'));
  writeFileSync(join(dir, 'health.lua'), script);
  writeFileSync(
    join(dir, 'run.lua'),
    `obj = ${toLua(object)}\nlocal hs = dofile(${JSON.stringify(join(dir, 'health.lua'))})\nio.write(hs.status, "\\n", hs.message or "")\n`,
  );
  const { stdout } = await run(LUA, [join(dir, 'run.lua')]);
  const [status, ...message] = stdout.split('\n');
  return { status: status!, message: message.join('\n') };
}

describe('the Argo CD health check of docs/kubernetes.md on objects the controller wrote', () => {
  let namespace: string;
  let script: string;
  const seen = new Map<string, WebhookSourceJson>();

  before(async () => {
    await run(LUA, ['-v']).catch(() => {
      throw new Error(`${LUA} is not installed: apt-get install -y lua5.1 (Debian's package; .ci/run installs it)`);
    });
    script = healthScript();
    await installCrd();
    namespace = await createTestNamespace();
    await apply([
      secret(namespace, 'ready', { secret: 'r' }),
      webhookSource(namespace, 'ready', { secretRef: { name: 'ready' } }),
      webhookSource(namespace, 'missing', { secretRef: { name: 'no-such-secret' } }),
      secret(namespace, 'paused', { secret: 'p' }),
      webhookSource(namespace, 'paused', { secretRef: { name: 'paused' }, suspend: true }),
    ]);
    const service = await startService({ config: 'sources: {}\n', env: kubernetesEnv(namespace) });
    try {
      const until = (name: string, type: string, reason: string) =>
        waitFor(
          `${name} ${type} ${reason}`,
          async () => (condition(await getWebhookSource(namespace, name), type)?.reason === reason ? true : undefined),
          30_000,
        );
      await until('ready', 'Ready', 'Serving');
      // Created after `ready`, so `ready` keeps the name.
      await apply([webhookSource(namespace, 'claimant', { secretRef: { name: 'ready' }, sourceName: 'ready' })]);
      await Promise.all([
        until('missing', 'SecretResolved', 'SecretNotFound'),
        until('paused', 'Ready', 'Suspended'),
        until('claimant', 'Ready', 'SourceConflict'),
      ]);
      for (const name of ['ready', 'missing', 'paused', 'claimant']) seen.set(name, await getWebhookSource(namespace, name));
    } finally {
      await service.stop();
    }
    // With the controller gone: a new object, and an edit it has not observed.
    await apply([webhookSource(namespace, 'new', { secretRef: { name: 'ready' } })]);
    await kubectl(['patch', 'whs', 'ready', '-n', namespace, '--type=merge', '-p', '{"spec":{"severityMapping":{"p1":"critical"}}}']);
    const listed = JSON.parse(await kubectl(['get', 'whs', '-n', namespace, '-o', 'json'])) as { items: WebhookSourceJson[] };
    for (const item of listed.items) if (item.metadata.name === 'new' || item.metadata.name === 'ready') seen.set(`${item.metadata.name} (now)`, item);
  });

  it('reads a served object as Healthy', async () => {
    assert.deepEqual(await health(script, seen.get('ready')!), { status: 'Healthy', message: 'Serving: ' + condition(seen.get('ready')!, 'Ready')!.message });
  });

  it('reads a missing Secret and a name conflict as Degraded, with the reason', async () => {
    const missing = await health(script, seen.get('missing')!);
    assert.equal(missing.status, 'Degraded');
    assert.match(missing.message, /^SecretNotFound: /);
    const conflict = await health(script, seen.get('claimant')!);
    assert.equal(conflict.status, 'Degraded');
    assert.match(conflict.message, /^SourceConflict: /);
  });

  it('reads a suspended object as Suspended', async () => {
    assert.equal((await health(script, seen.get('paused')!)).status, 'Suspended');
  });

  it('reads an object not yet observed as Progressing: no status at all, or a generation behind', async () => {
    const fresh = seen.get('new (now)')!;
    assert.equal(fresh.status, undefined, 'nothing wrote its status');
    assert.equal((await health(script, fresh)).status, 'Progressing');
    const edited = seen.get('ready (now)')!;
    assert.ok(edited.status!.observedGeneration! < edited.metadata.generation, 'the edit is not observed');
    assert.equal(condition(edited, 'Ready')?.status, 'True', 'the last observed state was Ready');
    assert.equal((await health(script, edited)).status, 'Progressing');
  });
});
