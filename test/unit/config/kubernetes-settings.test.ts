import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.js';
import { checkRegistrationWatched, loadKubernetesSettings } from '../../../src/config/kubernetes-settings.js';

const noFile = join(tmpdir(), 'no-such-namespace-file');

describe('Kubernetes settings', () => {
  it('is off by default, with client-go lease timings, the hostname and the default namespace', () => {
    assert.deepEqual(loadKubernetesSettings({}, noFile), {
      enabled: false,
      namespace: 'default',
      registrationNamespace: 'default',
      watchNamespaces: [],
      podName: hostname(),
      lease: { durationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
    });
  });

  it("takes the pod's namespace from the service account mount", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tw-ns-')), 'namespace');
    writeFileSync(file, 'security\n');
    assert.equal(loadKubernetesSettings({}, file).namespace, 'security');
    assert.equal(loadKubernetesSettings({ TW_NAMESPACE: 'ops' }, file).namespace, 'ops');
    assert.equal(loadKubernetesSettings({ TW_NAMESPACE: 'ops' }, file).registrationNamespace, 'ops', 'registrations default to the same namespace');
  });

  it('reads every variable', () => {
    const settings = loadKubernetesSettings(
      {
        TW_KUBERNETES: 'true',
        TW_WATCH_NAMESPACES: 'team-a, team-b,',
        TW_REGISTRATION_NAMESPACE: 'tw-sources',
        TW_POD_NAME: 'tw-0',
        TW_LEASE_DURATION_SECONDS: '4',
        TW_LEASE_RENEW_DEADLINE_SECONDS: '3',
        TW_LEASE_RETRY_PERIOD_SECONDS: '1',
      },
      noFile,
    );
    assert.equal(settings.enabled, true);
    assert.deepEqual(settings.watchNamespaces, ['team-a', 'team-b']);
    assert.equal(settings.registrationNamespace, 'tw-sources');
    assert.equal(settings.podName, 'tw-0');
    assert.deepEqual(settings.lease, { durationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 });
  });

  it('with registration on, refuses a registration namespace outside the watched ones', () => {
    const watching = (env: NodeJS.ProcessEnv) => () => checkRegistrationWatched(loadKubernetesSettings({ TW_KUBERNETES: 'true', ...env }, noFile));
    assert.throws(
      watching({ TW_WATCH_NAMESPACES: 'team-a', TW_REGISTRATION_NAMESPACE: 'tw-sources' }),
      /must include TW_REGISTRATION_NAMESPACE \(tw-sources\)/,
    );
    assert.doesNotThrow(watching({ TW_WATCH_NAMESPACES: 'team-a, tw-sources', TW_REGISTRATION_NAMESPACE: 'tw-sources' }));
    assert.doesNotThrow(watching({ TW_REGISTRATION_NAMESPACE: 'tw-sources' }), 'every namespace is watched');
  });

  it('refuses lease timings client-go refuses', () => {
    assert.throws(() => loadKubernetesSettings({ TW_LEASE_DURATION_SECONDS: '10' }, noFile), ConfigError);
    assert.throws(() => loadKubernetesSettings({ TW_LEASE_RETRY_PERIOD_SECONDS: '9' }, noFile), /1\.2/);
    assert.throws(() => loadKubernetesSettings({ TW_KUBERNETES: 'yes' }, noFile), /TW_KUBERNETES/);
  });
});
