import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files the API server and its admin client need; all generated fresh per start, never reused. */
export interface KubePki {
  caCert: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

/** The user the kubeconfig authenticates as; system:masters bypasses RBAC, as envtest's admin does. */
export const adminUser = { name: 'tw-test-admin', group: 'system:masters' } as const;

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Like envtest: one throwaway CA signs the serving cert (SANs 127.0.0.1, localhost) and the admin's
 * client cert, and the API server trusts it as --client-ca-file. Node cannot issue X.509 certificates,
 * so the openssl CLI does; the service-account signing key is a plain key pair from node:crypto.
 */
export function generateKubePki(dir: string): KubePki {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const pki: KubePki = {
    caCert: file('ca.crt'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    adminCert: file('admin.crt'),
    adminKey: file('admin.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPublicKey: file('sa.pub'),
  };
  const caKey = file('ca.key');
  openssl(['req', '-x509', ...ecKey, '-keyout', caKey, '-out', pki.caCert, '-days', '30', '-subj', '/CN=tw-webhooks-test-ca']);
  const signedByCa = ['-CA', pki.caCert, '-CAkey', caKey, '-days', '30', '-addext', 'basicConstraints=critical,CA:FALSE'];
  openssl([
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    pki.servingKey,
    '-out',
    pki.servingCert,
    ...signedByCa,
    '-subj',
    '/CN=kube-apiserver',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  openssl([
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    pki.adminKey,
    '-out',
    pki.adminCert,
    ...signedByCa,
    '-subj',
    `/O=${adminUser.group}/CN=${adminUser.name}`,
    '-addext',
    'extendedKeyUsage=clientAuth',
  ]);
  const serviceAccount = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(pki.serviceAccountKey, serviceAccount.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pki.serviceAccountPublicKey, serviceAccount.publicKey.export({ type: 'spki', format: 'pem' }));
  return pki;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed (the openssl CLI is needed for test certificates): ${stderr}`, { cause: error });
  }
}
