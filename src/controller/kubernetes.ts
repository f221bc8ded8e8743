import type { Logger } from '../log/logger.js';
import type { KubernetesSettings } from '../config/kubernetes-settings.js';
import type { Metrics } from '../metrics/metrics.js';
import { DEFAULT_INFORMER_TIMING, type InformerHealth } from '../kubernetes/informer.js';
import { KubeClient, loadKubeConfig } from '../kubernetes/kube-client.js';
import { KubernetesSourceProvider } from '../kubernetes/provider.js';
import { KubernetesRegistrations } from '../kubernetes/registrations.js';
import type { SourceRegistry } from '../sources/registry.js';
import { WebhookSourceController } from './controller.js';

/**
 * The Kubernetes side of one replica, over one client: the source provider (for the registry),
 * the registration API's writes (objects in TW_NAMESPACE) and, once the registry exists, the
 * controller. In a pod the service account is used, elsewhere KUBECONFIG.
 */
export function createKubernetes(settings: KubernetesSettings, metrics: Metrics, logger: Logger) {
  const client = new KubeClient(loadKubeConfig());
  const health: InformerHealth = {
    synced: (resource) => metrics.informerSynced.set({ resource }, 1),
    restarted: (resource) => metrics.informerRestarts.inc({ resource }),
    listed: (resource) => metrics.informerLastSync.set({ resource }, Date.now() / 1000),
  };
  const log = logger.child({ component: 'kubernetes' });
  const provider = new KubernetesSourceProvider({ client, namespaces: settings.watchNamespaces, timing: DEFAULT_INFORMER_TIMING, health, logger: log });
  let controller: WebhookSourceController | undefined;
  return {
    provider,
    registrations: (rotationGraceSeconds: number) => new KubernetesRegistrations(client, settings.registrationNamespace, rotationGraceSeconds),
    /** Starts leader election; the leader reconciles status from the provider's caches and the registry. */
    startController(registry: SourceRegistry): void {
      controller = new WebhookSourceController({
        client,
        provider,
        registry,
        namespace: settings.namespace,
        identity: settings.podName,
        lease: settings.lease,
        metrics,
        logger: log,
      });
      controller.start();
    },
    async stop(): Promise<void> {
      await controller?.stop();
    },
  };
}
