import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from './config-error.js';
import { envReader } from './env.js';

/** Where Kubernetes mounts the pod's own namespace (the service account volume). */
const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The leader Lease's timing (client-go's leaderelection names). */
export interface LeaseTiming {
  /** How long non-leaders wait after the last change they saw before taking over. */
  durationSeconds: number;
  /** The leader steps down if it could not renew for this long (shorter than the duration). */
  renewDeadlineSeconds: number;
  /** Pause between tries, acquiring and renewing alike. */
  retryPeriodSeconds: number;
}

export interface KubernetesSettings {
  /** `TW_KUBERNETES`: WebhookSource objects are a source provider and the controller runs. */
  enabled: boolean;
  /** `TW_NAMESPACE`: where the leader Lease lives. */
  namespace: string;
  /** `TW_REGISTRATION_NAMESPACE`: where the registration API writes WebhookSources and Secrets; default `namespace`. */
  registrationNamespace: string;
  /** `TW_WATCH_NAMESPACES`: WebhookSources and Secrets are read from these only; empty = cluster-wide. */
  watchNamespaces: string[];
  /** `TW_POD_NAME`: this replica's identity in the Lease and in Events. */
  podName: string;
  lease: LeaseTiming;
}

export function loadKubernetesSettings(env: NodeJS.ProcessEnv, namespaceFile = POD_NAMESPACE_FILE): KubernetesSettings {
  const read = envReader(env);
  const lease: LeaseTiming = {
    durationSeconds: read.integer('TW_LEASE_DURATION_SECONDS', 15, 2, 3600),
    renewDeadlineSeconds: read.integer('TW_LEASE_RENEW_DEADLINE_SECONDS', 10, 1, 3600),
    retryPeriodSeconds: read.integer('TW_LEASE_RETRY_PERIOD_SECONDS', 2, 1, 3600),
  };
  // client-go's own checks: the leader gives up before others may take over, after several tries.
  if (lease.durationSeconds <= lease.renewDeadlineSeconds) {
    throw new ConfigError(
      `TW_LEASE_DURATION_SECONDS (${lease.durationSeconds}) must be greater than TW_LEASE_RENEW_DEADLINE_SECONDS (${lease.renewDeadlineSeconds})`,
    );
  }
  if (lease.renewDeadlineSeconds <= 1.2 * lease.retryPeriodSeconds) {
    throw new ConfigError(
      `TW_LEASE_RENEW_DEADLINE_SECONDS (${lease.renewDeadlineSeconds}) must be greater than 1.2 × TW_LEASE_RETRY_PERIOD_SECONDS (${lease.retryPeriodSeconds})`,
    );
  }
  const namespace = read.string('TW_NAMESPACE') ?? podNamespace(namespaceFile) ?? 'default';
  return {
    enabled: read.boolean('TW_KUBERNETES', false),
    namespace,
    registrationNamespace: read.string('TW_REGISTRATION_NAMESPACE') ?? namespace,
    watchNamespaces: read.list('TW_WATCH_NAMESPACES'),
    podName: read.string('TW_POD_NAME') ?? hostname(),
    lease,
  };
}

/** With the registration API on, its namespace is watched: registered sources are served like any WebhookSource, only where the provider looks. */
export function checkRegistrationWatched({ enabled, watchNamespaces, registrationNamespace }: KubernetesSettings): void {
  if (enabled && watchNamespaces.length > 0 && !watchNamespaces.includes(registrationNamespace)) {
    throw new ConfigError(
      `TW_WATCH_NAMESPACES (${watchNamespaces.join(', ')}) must include TW_REGISTRATION_NAMESPACE (${registrationNamespace}): sources registered there would never be served`,
    );
  }
}

function podNamespace(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}
