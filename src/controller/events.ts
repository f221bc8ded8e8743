import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { KubeClient } from '../kubernetes/kube-client.js';
import type { CachedWebhookSource } from '../kubernetes/webhook-source.js';
import { WEBHOOK_SOURCE_API } from '../kubernetes/webhook-source-crd.js';
import { microTime, nowMicros } from './lease.js';

const REPORTING_CONTROLLER = 'triagewarden.io/tw-webhooks';

/** events.k8s.io/v1 Events about WebhookSources. Best effort: a lost Event never fails a reconcile. */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  async record(object: CachedWebhookSource, type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${object.name}.${randomBytes(8).toString('hex')}`, namespace: object.namespace },
      eventTime: microTime(nowMicros()),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      action: 'Reconcile',
      type,
      reason,
      note: note.slice(0, 1024),
      regarding: {
        apiVersion: WEBHOOK_SOURCE_API.apiVersion,
        kind: WEBHOOK_SOURCE_API.kind,
        namespace: object.namespace,
        name: object.name,
        uid: object.uid,
      },
    };
    try {
      await this.client.request('POST', `/apis/events.k8s.io/v1/namespaces/${object.namespace}/events`, event);
    } catch (error) {
      this.logger.warn({ err: error, object: `${object.namespace}/${object.name}`, reason }, 'could not record an Event');
    }
  }
}
