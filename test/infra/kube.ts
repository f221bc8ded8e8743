import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, ensureBinaries, progress, type GoBinary } from './build.js';
import { adminUser, generateKubePki, type KubePki } from './pki.js';
import { freePort, retryOnce, startDetached, stopServer, waitForServer, type ServerProcess } from './process.js';
import type { Started } from './state.js';
import { versions } from './versions.js';

const kubernetes = { module: 'k8s.io/kubernetes', version: versions.kubernetes };
const [major, minor, patch] = versions.kubernetes.slice(1).split('.');
const stagingVersion = `v0.${minor}.${patch}`;
// A plain `go build` reports v0.0.0-master; stamp the release the way Kubernetes' own build does.
const versionStamp = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
  `-X ${pkg}.gitVersion=${versions.kubernetes}`,
  `-X ${pkg}.gitMajor=${major}`,
  `-X ${pkg}.gitMinor=${minor}`,
  `-X ${pkg}.gitTreeState=clean`,
]);

const kubeBinaries: readonly GoBinary[] = [
  {
    binary: 'kube-apiserver',
    moduleDir: 'kube',
    pinned: kubernetes,
    replacedWith: stagingVersion,
    goPackage: 'k8s.io/kubernetes/cmd/kube-apiserver',
    ldflags: versionStamp,
  },
  { binary: 'kubectl', moduleDir: 'kube', pinned: kubernetes, replacedWith: stagingVersion, goPackage: 'k8s.io/kubernetes/cmd/kubectl', ldflags: versionStamp },
  { binary: 'etcd', moduleDir: 'etcd', pinned: { module: 'go.etcd.io/etcd/server/v3', version: versions.etcd }, goPackage: 'go.etcd.io/etcd/server/v3' },
];

/** A KUBEBUILDER_ASSETS-style folder (kube-apiserver, etcd, kubectl): the user's, or built once into the cache. */
export async function kubeAssets(): Promise<string> {
  const fromEnv = process.env.KUBEBUILDER_ASSETS;
  if (fromEnv) return fromEnv;
  const folder = cacheDir(`kube-${versions.kubernetes}-etcd-${versions.etcd}`);
  await ensureBinaries(folder, kubeBinaries);
  return folder;
}

/**
 * etcd, then kube-apiserver on it, both on free loopback ports, in the order and with the flags
 * envtest uses; a failed start is retried once on fresh ports and folders.
 */
export function startKube(assets: string): Promise<Started> {
  return retryOnce('kube-apiserver and etcd', () => startKubeOnce(assets));
}

async function startKubeOnce(assets: string): Promise<Started> {
  const workDir = mkdtempSync(join(tmpdir(), 'tw-kube-'));
  const servers: ServerProcess[] = [];
  try {
    const started = Date.now();
    const pki = generateKubePki(join(workDir, 'pki'));
    const etcdUrl = `http://127.0.0.1:${await freePort()}`;
    servers.push(
      startDetached(
        'etcd',
        join(assets, 'etcd'),
        [
          `--data-dir=${join(workDir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          // Peer port 0: a single member never talks to peers, and a fixed 2380 would clash between runs.
          '--listen-peer-urls=http://127.0.0.1:0',
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        join(workDir, 'etcd.log'),
      ),
    );
    await waitForServer(servers[0]!, async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000);

    const port = await freePort();
    const apiserver = startDetached(
      'kube-apiserver',
      join(assets, 'kube-apiserver'),
      apiserverArgs(pki, port, etcdUrl, workDir),
      join(workDir, 'kube-apiserver.log'),
    );
    servers.push(apiserver);
    await waitForServer(apiserver, () => isReady(pki, port), 120_000);

    const kubeconfig = join(workDir, 'kubeconfig');
    writeFileSync(kubeconfig, adminKubeconfig(pki, `https://127.0.0.1:${port}`), { mode: 0o600 });
    progress(`kube-apiserver ${versions.kubernetes} ready on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { component: 'kube', servers, workDir, env: { KUBECONFIG: kubeconfig, KUBECTL: join(assets, 'kubectl'), KUBEBUILDER_ASSETS: assets } };
  } catch (error) {
    for (const server of servers.reverse()) await stopServer(server);
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

function apiserverArgs(pki: KubePki, port: number, etcdUrl: string, workDir: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(workDir, 'certs')}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=https://127.0.0.1:${port}/`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    // No controller-manager runs, so nothing would create the default ServiceAccount this plugin demands.
    '--disable-admission-plugins=ServiceAccount',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
  ];
}

function isReady(pki: KubePki, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/readyz',
        timeout: 2000,
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.once('timeout', () => req.destroy(new Error('readyz timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** JSON is valid YAML, and both kubectl and @kubernetes/client-node read it. */
function adminKubeconfig(pki: KubePki, server: string): string {
  const base64 = (file: string) => readFileSync(file).toString('base64');
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'tw-test', cluster: { server, 'certificate-authority-data': base64(pki.caCert) } }],
      users: [{ name: adminUser.name, user: { 'client-certificate-data': base64(pki.adminCert), 'client-key-data': base64(pki.adminKey) } }],
      contexts: [{ name: 'tw-test', context: { cluster: 'tw-test', user: adminUser.name, namespace: 'default' } }],
      'current-context': 'tw-test',
    },
    null,
    2,
  );
}
