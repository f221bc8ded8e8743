/**
 * The chart's privileges, least by default. Every Role, ClusterRole and binding it renders, for each
 * combination of the values that change RBAC, equals test/fixtures/rbac/rules.yaml (kept by hand: a
 * change there is a change of privileges, reviewed as such), and config/rbac/ holds the same rules.
 * Installed with `helm install` on the real API server, `kubectl auth can-i` shows that each
 * ServiceAccount reads no Secret outside the namespaces it watches, cannot change the release's own
 * Secrets, and can do what its plane needs; the service, run as the chart's ServiceAccount with the
 * chart's settings, then serves, leads, writes status and registers a source without a refused request.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { TEST_TOKEN, request, waitFor } from '../helpers/api-client.js';
import {
  NO_FILE_SOURCES,
  apply,
  condition,
  getWebhookSource,
  installCrd,
  kubectl,
  secret,
  sendSigned,
  serviceAccountKubeconfig,
  webhookSource,
} from '../helpers/kube-sources.js';
import { createTestNamespace, helmBin, needs } from '../helpers/servers.js';
import { startService, type RunningService } from '../helpers/service.js';
import { chartDir, helmTemplate, repoRoot } from '../deploy/chart.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

await needs('kube', 'helm');

const run = promisify(execFile);
const FIXTURE = join(repoRoot, 'test/fixtures/rbac/rules.yaml');

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
  spec?: any;
}

function manifestsOf(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Manifest)
    .filter((manifest) => manifest !== null);
}

/** `group resource(names): verbs`, the core group spelled `core`. */
function ruleText(rule: Rule): string {
  const names = rule.resourceNames ? `(${rule.resourceNames.join(', ')})` : '';
  return `${rule.apiGroups.map((group) => group || 'core').join(', ')} ${rule.resources.join(', ')}${names}: ${rule.verbs.join(', ')}`;
}

/** Every RBAC object as one line or a list of rule lines, keyed `Kind namespace/name`. */
function rbacOf(manifests: Manifest[]): Record<string, string | string[]> {
  const entries = manifests.flatMap((manifest): [string, string | string[]][] => {
    const key = `${manifest.kind} ${manifest.metadata.namespace ? `${manifest.metadata.namespace}/` : ''}${manifest.metadata.name}`;
    if (manifest.kind === 'Role' || manifest.kind === 'ClusterRole') return [[key, manifest.rules!.map(ruleText)]];
    if (manifest.kind === 'RoleBinding' || manifest.kind === 'ClusterRoleBinding') {
      const subjects = manifest.subjects!.map((subject) => `${subject.kind} ${subject.namespace}/${subject.name}`).join(', ');
      return [[key, `${manifest.roleRef!.kind} ${manifest.roleRef!.name} -> ${subjects}`]];
    }
    return [];
  });
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** The values that change RBAC, each combination by name (release `tw` in namespace `tw-system`). */
function combinations(): Map<string, string[]> {
  const stores = { embedded: [], mongodb: ['--set', 'mongodb.uri=mongodb://mongo:27017/tw'] };
  const watch = {
    'release namespace': [],
    'listed namespaces': ['--set', 'watchNamespaces={team-a,team-b}'],
    'all namespaces': ['--set', 'watchAllNamespaces=true'],
  };
  const registration = { 'registration off': [], 'registration on': ['--set', 'registrationApi.enabled=true'] };
  const combos = new Map<string, string[]>();
  for (const [store, storeArgs] of Object.entries(stores))
    for (const [scope, scopeArgs] of Object.entries(watch))
      for (const [api, apiArgs] of Object.entries(registration)) combos.set(`${store}, ${scope}, ${api}`, [...storeArgs, ...scopeArgs, ...apiArgs]);
  combos.set('mongodb, existing ServiceAccounts', [
    ...stores.mongodb,
    ...['--set', 'serviceAccount.create=false', '--set', 'serviceAccount.name=tw-receiver', '--set', 'serviceAccount.controlName=tw-control'],
  ]);
  combos.set('registration into a named namespace', ['--set', 'registrationApi.enabled=true', '--set', 'registrationApi.namespace=security-sources']);
  combos.set('rbac.create=false', ['--set', 'rbac.create=false']);
  return combos;
}

async function helmFails(args: readonly string[]): Promise<string> {
  try {
    await helmTemplate(helmBin(), args, 'tw', 'tw-system');
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  assert.fail(`helm template ${args.join(' ')} should have failed`);
}

describe('the RBAC the chart renders', () => {
  it('equals test/fixtures/rbac/rules.yaml for every combination of the values that change it', async () => {
    const expected = parseYaml(readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, string | string[]>>;
    const combos = combinations();
    assert.deepEqual(Object.keys(expected).sort(), [...combos.keys()].sort(), 'one fixture entry per combination');
    for (const [name, args] of combos) {
      const rendered = rbacOf(manifestsOf(await helmTemplate(helmBin(), args, 'tw', 'tw-system')));
      assert.deepEqual(rendered, expected[name], `${name} (${args.join(' ')})`);
    }
  });

  it('by default reads only the release namespace: no ClusterRole, and no Secret write anywhere', async () => {
    const rendered = manifestsOf(await helmTemplate(helmBin(), [], 'tw', 'tw-system'));
    assert.deepEqual(
      rendered.filter((manifest) => manifest.kind.startsWith('Cluster') && manifest.kind !== 'CustomResourceDefinition'),
      [],
    );
    const writesSecrets = rendered.filter((manifest) =>
      manifest.rules?.some((rule) => rule.resources.includes('secrets') && rule.verbs.some((verb) => !['get', 'list', 'watch'].includes(verb))),
    );
    assert.deepEqual(writesSecrets, []);
  });

  it('refuses the registration API in the release namespace, and both watch settings at once, saying why', async () => {
    assert.match(
      await helmFails(['--set', 'registrationApi.enabled=true', '--set', 'registrationApi.namespace=tw-system']),
      /registrationApi\.namespace must not be the release namespace \(tw-system\).*the release's own Secrets/,
    );
    assert.match(await helmFails(['--set', 'watchAllNamespaces=true', '--set', 'watchNamespaces={a}']), /either watchAllNamespaces or watchNamespaces/);
  });

  it('names the all-namespaces choice in NOTES.txt', async () => {
    // helm template renders no NOTES.txt; an install's client-side dry run prints it.
    const { stdout: scoped } = await run(helmBin(), ['install', 'tw', chartDir, '-n', 'tw-system', '--dry-run=client', '--set', 'crds.install=false']);
    assert.match(scoped, /WebhookSources and their Secrets are read in: tw-system/);
    const { stdout: everywhere } = await run(helmBin(), [
      'install',
      'tw',
      chartDir,
      '-n',
      'tw-system',
      '--dry-run=client',
      '--set',
      'crds.install=false',
      '--set',
      'watchAllNamespaces=true',
    ]);
    assert.match(everywhere, /read in EVERY namespace \(watchAllNamespaces=true\): the pods can read every Secret in the cluster/);
  });

  it('keeps config/rbac/ (the plain-manifest RBAC) to the same rules as the chart', async () => {
    const rendered = manifestsOf(await helmTemplate(helmBin(), ['--set', 'registrationApi.enabled=true'], 'tw', 'tw-system'));
    const split = manifestsOf(await helmTemplate(helmBin(), ['--set', 'mongodb.uri=mongodb://mongo/tw'], 'tw', 'tw-system'));
    const rules = (manifests: Manifest[], matches: (manifest: Manifest) => boolean) => manifests.find(matches)?.rules?.map(ruleText).sort();
    const chartRole = (manifests: Manifest[], suffix: string) => rules(manifests, (m) => m.kind === 'Role' && m.metadata.name.endsWith(suffix));
    const kept = (file: string, kind = 'Role') => rules(manifestsOf(readFileSync(join(repoRoot, 'config/rbac', file), 'utf8')), (m) => m.kind === kind);
    assert.deepEqual(kept('namespaced-role.yaml'), chartRole(rendered, '-sources'));
    assert.deepEqual(kept('cluster-role.yaml', 'ClusterRole'), chartRole(rendered, '-sources'));
    assert.deepEqual(kept('lease-role.yaml'), chartRole(rendered, '-leader-election'));
    assert.deepEqual(kept('registration-role.yaml'), chartRole(rendered, '-registration'));
    assert.deepEqual(kept('receiver-role.yaml'), chartRole(split, '-receiver'));
  });
});

/** `kubectl auth can-i` as a ServiceAccount (impersonated by the admin): "yes" or "no". `resource:sub` asks for a subresource. */
async function canI(serviceAccount: string, verb: string, resource: string, namespace: string | undefined): Promise<string> {
  const where = namespace ? ['-n', namespace] : ['--all-namespaces'];
  const [name, subresource] = resource.split(':');
  const sub = subresource ? [`--subresource=${subresource}`] : [];
  return kubectl(['auth', 'can-i', verb, name!, ...sub, ...where, `--as=system:serviceaccount:${serviceAccount}`]).then(
    (out) => out.trim(),
    (error: { stdout?: string }) => String(error.stdout ?? 'error').trim(),
  );
}

/** Every question at once, answered; compared as a whole so a failure shows every answer. */
async function answers(serviceAccount: string, questions: [verb: string, resource: string, namespace: string | undefined][]): Promise<string[]> {
  return Promise.all(
    questions.map(
      async ([verb, resource, namespace]) => `${verb} ${resource} in ${namespace ?? 'all'}: ${await canI(serviceAccount, verb, resource, namespace)}`,
    ),
  );
}

function expectAnswers(questions: [string, string, string | undefined][], answer: string): string[] {
  return questions.map(([verb, resource, namespace]) => `${verb} ${resource} in ${namespace ?? 'all'}: ${answer}`);
}

interface Installed {
  release: string;
  namespace: string;
  sources: string;
  rendered: Manifest[];
}

/** `helm install` into a fresh namespace (the CRD is installed apart, as the shared test server already has it). */
async function install(args: string[]): Promise<Installed> {
  const namespace = await createTestNamespace();
  const release = `rbac-${randomBytes(3).toString('hex')}`;
  const all = ['--set', 'crds.install=false', '--set', 'registrationApi.enabled=true', ...args];
  await run(helmBin(), ['install', release, chartDir, '--namespace', namespace, ...all], { maxBuffer: 8 << 20 });
  return { release, namespace, sources: `${release}-sources`, rendered: manifestsOf(await helmTemplate(helmBin(), all, release, namespace)) };
}

describe('the chart installed with helm install, asked with kubectl auth can-i', () => {
  let other: string;
  before(async () => {
    await installCrd();
    other = await createTestNamespace();
    // A labelled Secret in a namespace the chart does not watch.
    await apply([secret(other, 'unrelated', { secret: 'not yours' }, true)]);
  });

  it('on the embedded store: the one ServiceAccount reads its namespace, leads with one Lease, registers only into <release>-sources', async () => {
    const { release, namespace, sources } = await install([]);
    const account = `${namespace}:${release}-tw-webhooks`;
    const allowed: [string, string, string | undefined][] = [
      ['list', 'secrets', namespace],
      ['watch', 'secrets', namespace],
      ['get', 'secrets', namespace],
      ['list', 'webhooksources.triagewarden.io', namespace],
      ['patch', 'webhooksources.triagewarden.io:status', namespace],
      ['create', 'events.events.k8s.io', namespace],
      ['get', 'leases.coordination.k8s.io/tw-webhooks-leader', namespace],
      ['update', 'leases.coordination.k8s.io/tw-webhooks-leader', namespace],
      ['create', 'leases.coordination.k8s.io', namespace],
      ['list', 'secrets', sources],
      ['create', 'secrets', sources],
      ['patch', 'secrets', sources],
      ['delete', 'secrets', sources],
      ['create', 'webhooksources.triagewarden.io', sources],
      ['patch', 'webhooksources.triagewarden.io', sources],
      ['delete', 'webhooksources.triagewarden.io', sources],
    ];
    const refused: [string, string, string | undefined][] = [
      ['get', 'secrets', other],
      ['list', 'secrets', other],
      ['list', 'secrets', undefined],
      ['create', 'secrets', namespace],
      ['update', 'secrets', namespace],
      ['patch', 'secrets', namespace],
      ['delete', 'secrets', namespace],
      ['patch', `secrets/sh.helm.release.v1.${release}.v1`, namespace],
      ['patch', 'webhooksources.triagewarden.io', namespace],
      ['delete', 'webhooksources.triagewarden.io', namespace],
      ['get', 'leases.coordination.k8s.io/another-lease', namespace],
      ['update', 'leases.coordination.k8s.io/another-lease', namespace],
      ['delete', 'leases.coordination.k8s.io/tw-webhooks-leader', namespace],
      ['create', 'leases.coordination.k8s.io', other],
      ['list', 'webhooksources.triagewarden.io', other],
      ['create', 'secrets', other],
    ];
    assert.deepEqual(await answers(account, allowed), expectAnswers(allowed, 'yes'));
    assert.deepEqual(await answers(account, refused), expectAnswers(refused, 'no'));
  });

  it('with MongoDB: the receivers only list and watch WebhookSources and Secrets; the control plane has the controller and registration rules', async () => {
    const { release, namespace, sources } = await install(['--set', 'mongodb.uri=mongodb://mongo:27017/tw']);
    const receiver = `${namespace}:${release}-tw-webhooks`;
    const control = `${namespace}:${release}-tw-webhooks-control`;
    const receiverAllowed: [string, string, string | undefined][] = [
      ['list', 'secrets', namespace],
      ['watch', 'secrets', namespace],
      ['list', 'webhooksources.triagewarden.io', namespace],
      ['watch', 'webhooksources.triagewarden.io', sources],
      ['list', 'secrets', sources],
    ];
    const receiverRefused: [string, string, string | undefined][] = [
      ['get', 'secrets', namespace],
      ['list', 'secrets', other],
      ['create', 'secrets', namespace],
      ['create', 'secrets', sources],
      ['patch', 'webhooksources.triagewarden.io', sources],
      ['patch', 'webhooksources.triagewarden.io:status', namespace],
      ['create', 'events.events.k8s.io', namespace],
      ['get', 'leases.coordination.k8s.io/tw-webhooks-leader', namespace],
      ['update', 'leases.coordination.k8s.io/tw-webhooks-leader', namespace],
      ['create', 'leases.coordination.k8s.io', namespace],
    ];
    const controlAllowed: [string, string, string | undefined][] = [
      ['get', 'secrets', namespace],
      ['patch', 'webhooksources.triagewarden.io:status', namespace],
      ['create', 'events.events.k8s.io', namespace],
      ['update', 'leases.coordination.k8s.io/tw-webhooks-leader', namespace],
      ['create', 'secrets', sources],
      ['patch', 'webhooksources.triagewarden.io', sources],
    ];
    const controlRefused: [string, string, string | undefined][] = [
      ['list', 'secrets', other],
      ['patch', 'secrets', namespace],
      ['delete', `secrets/${release}-tw-webhooks-mongodb`, namespace],
      ['update', 'leases.coordination.k8s.io/another-lease', namespace],
    ];
    assert.deepEqual(await answers(receiver, receiverAllowed), expectAnswers(receiverAllowed, 'yes'));
    assert.deepEqual(await answers(receiver, receiverRefused), expectAnswers(receiverRefused, 'no'));
    assert.deepEqual(await answers(control, controlAllowed), expectAnswers(controlAllowed, 'yes'));
    assert.deepEqual(await answers(control, controlRefused), expectAnswers(controlRefused, 'no'));
  });

  describe("the service run as the chart's ServiceAccount, with the chart's settings", () => {
    let service: RunningService | undefined;
    after(async () => {
      await service?.stop();
    });

    it('serves a source of its namespace, writes its status, leads, and registers a source into <release>-sources, refused nothing', async () => {
      const { release, namespace, sources, rendered } = await install([
        '--set',
        'leaderElection.leaseDurationSeconds=4',
        '--set',
        'leaderElection.renewDeadlineSeconds=3',
        '--set',
        'leaderElection.retryPeriodSeconds=1',
      ]);
      const deployment = rendered.find((manifest) => manifest.kind === 'Deployment')!;
      const container = deployment.spec.template.spec.containers[0] as { env: { name: string; value?: string }[] };
      // The chart's own settings, the downward API's namespace given as the value a pod would get.
      const chartEnv = Object.fromEntries(container.env.filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value!]));
      assert.equal(chartEnv.TW_WATCH_NAMESPACES, `${namespace},${sources}`);
      assert.equal(chartEnv.TW_REGISTRATION_NAMESPACE, sources);
      const kubeconfig = await serviceAccountKubeconfig(namespace, `${release}-tw-webhooks`);
      await apply([secret(namespace, 'chart-rbac', { secret: 'c' }), webhookSource(namespace, 'chart-rbac', { secretRef: { name: 'chart-rbac' } })]);
      const { PORT: _port, TW_DATA_DIR: _data, ...env } = chartEnv;
      service = await startService({ config: NO_FILE_SOURCES, env: { ...env, TW_NAMESPACE: namespace, TW_POD_NAME: 'chart-pod', KUBECONFIG: kubeconfig } });
      const running = service;
      await waitFor('served', async () => ((await sendSigned(running.url, 'chart-rbac', 'c')).status === 201 ? true : undefined), 30_000);
      await waitFor('Ready written', async () => (condition(await getWebhookSource(namespace, 'chart-rbac'), 'Ready')?.status === 'True' ? true : undefined));
      const lease = JSON.parse(await kubectl(['get', 'lease', 'tw-webhooks-leader', '-n', namespace, '-o', 'json'])) as { spec: { holderIdentity: string } };
      assert.equal(lease.spec.holderIdentity, 'chart-pod');

      const registered = await request(running.url, '/api/webhooks', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'chart-registered', secret: 'registered-secret' }),
      });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const written = await getWebhookSource(sources, 'chart-registered');
      assert.equal(written.metadata.namespace, sources);
      await waitFor(
        'the registered source served',
        async () => ((await sendSigned(running.url, 'chart-registered', 'registered-secret')).status === 201 ? true : undefined),
        30_000,
      );
      await waitFor('its status written', async () =>
        condition(await getWebhookSource(sources, 'chart-registered'), 'Ready')?.status === 'True' ? true : undefined,
      );

      const refused = running.logs.filter((entry) => /forbidden/i.test(JSON.stringify(entry)));
      assert.deepEqual(refused, [], 'no request was refused');
    });
  });
});
