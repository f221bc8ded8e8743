import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { LeaseTiming } from '../controller/leader-election.js';
import { ConfigError } from './config-error.js';
import { integer, list } from './settings.js';

/** Where Kubernetes mounts the pod's own namespace (the service account volume). */
export const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface KubernetesSettings {
  /** `TW_KUBERNETES`: WebhookSource objects are a source provider and the controller runs. */
  enabled: boolean;
  /** `TW_NAMESPACE`: where the leader Lease lives. */
  namespace: string;
  /** `TW_WATCH_NAMESPACES`: WebhookSources and Secrets are read from these only; empty = cluster-wide. */
  watchNamespaces: string[];
  /** `TW_POD_NAME`: this replica's identity in the Lease and in Events. */
  podName: string;
  lease: LeaseTiming;
}

export function loadKubernetesSettings(env: NodeJS.ProcessEnv, namespaceFile = POD_NAMESPACE_FILE): KubernetesSettings {
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === '' ? undefined : raw;
  };
  const enabled = value('TW_KUBERNETES')?.toLowerCase();
  if (enabled !== undefined && enabled !== 'true' && enabled !== 'false') throw new ConfigError(`TW_KUBERNETES must be true or false, got '${enabled}'`);
  const lease: LeaseTiming = {
    durationSeconds: integer('TW_LEASE_DURATION_SECONDS', value('TW_LEASE_DURATION_SECONDS'), 15, 2, 3600),
    renewDeadlineSeconds: integer('TW_LEASE_RENEW_DEADLINE_SECONDS', value('TW_LEASE_RENEW_DEADLINE_SECONDS'), 10, 1, 3600),
    retryPeriodSeconds: integer('TW_LEASE_RETRY_PERIOD_SECONDS', value('TW_LEASE_RETRY_PERIOD_SECONDS'), 2, 1, 3600),
  };
  // client-go's own checks: the leader must give up before others may take over, and get several tries first.
  if (lease.durationSeconds <= lease.renewDeadlineSeconds) {
    throw new ConfigError(`TW_LEASE_DURATION_SECONDS (${lease.durationSeconds}) must be greater than TW_LEASE_RENEW_DEADLINE_SECONDS (${lease.renewDeadlineSeconds})`);
  }
  if (lease.renewDeadlineSeconds <= 1.2 * lease.retryPeriodSeconds) {
    throw new ConfigError(`TW_LEASE_RENEW_DEADLINE_SECONDS (${lease.renewDeadlineSeconds}) must be greater than 1.2 × TW_LEASE_RETRY_PERIOD_SECONDS (${lease.retryPeriodSeconds})`);
  }
  return {
    enabled: enabled === 'true',
    namespace: value('TW_NAMESPACE') ?? podNamespace(namespaceFile) ?? 'default',
    watchNamespaces: list(value('TW_WATCH_NAMESPACES')),
    podName: value('TW_POD_NAME') ?? hostname(),
    lease,
  };
}

function podNamespace(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}
