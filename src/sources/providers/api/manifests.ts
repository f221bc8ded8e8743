import type { RegistrationSpec } from './registered-source.js';

/** The label the kubernetes provider selects Secrets by. */
export const WEBHOOK_SECRET_LABEL = 'triagewarden.io/webhook-secret';
export const SECRET_KEY = 'secret';
export const PREVIOUS_SECRET_KEY = 'previous';

export interface SourceManifestInput {
  name: string;
  namespace: string | undefined;
  secret: string;
  previousSecret?: string | undefined;
  spec: RegistrationSpec;
}

export function secretNameOf(source: string): string {
  return `${source}-webhook-secret`;
}

/**
 * A source as the two objects the cluster keeps: a `WebhookSource` (the config file's keys in the
 * CRD's camelCase) and the labelled `Secret` it references. `tw-cli webhook add --output yaml`
 * prints them for GitOps; the registration API applies them in Kubernetes mode.
 */
export function sourceManifests(input: SourceManifestInput): [Record<string, unknown>, Record<string, unknown>] {
  const { name, namespace, spec } = input;
  const metadata = (objectName: string, labels: Record<string, string>) => ({
    name: objectName,
    ...(namespace !== undefined && { namespace }),
    labels: { 'app.kubernetes.io/managed-by': 'tw-webhooks', ...labels },
  });
  const webhookSource = {
    apiVersion: 'triagewarden.io/v1alpha1',
    kind: 'WebhookSource',
    metadata: metadata(name, {}),
    spec: withoutUndefined({
      sourceName: name,
      secretRef: { name: secretNameOf(name), key: SECRET_KEY, ...(input.previousSecret !== undefined && { previousKey: PREVIOUS_SECRET_KEY }) },
      format: spec.format,
      verification: spec.verification,
      autoTriage: spec.auto_triage,
      playbook: spec.playbook,
      severityMapping: spec.severity_mapping && Object.fromEntries(Object.entries(spec.severity_mapping).map(([vendor, ours]) => [vendor.toLowerCase(), ours])),
      toleranceSeconds: spec.tolerance_seconds,
      maxBodyBytes: spec.max_body_bytes,
      // The CRD counts whole requests per second.
      rateLimit: spec.rate_limit && withoutUndefined({ requestsPerSecond: Math.ceil(spec.rate_limit.requests_per_second), burst: spec.rate_limit.burst }),
      processing: spec.processing,
      suspend: spec.enabled === undefined ? undefined : !spec.enabled,
    }),
  };
  const data: Record<string, string> = { [SECRET_KEY]: Buffer.from(input.secret, 'utf8').toString('base64') };
  if (input.previousSecret !== undefined) data[PREVIOUS_SECRET_KEY] = Buffer.from(input.previousSecret, 'utf8').toString('base64');
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(secretNameOf(name), { [WEBHOOK_SECRET_LABEL]: 'true' }),
    type: 'Opaque',
    data,
  };
  return [webhookSource, secret];
}

function withoutUndefined<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/** A WebhookSource's spec back in the config file's keys (what the registration API shows and merges). */
export function specFromWebhookSource(spec: Record<string, unknown>): RegistrationSpec {
  const rateLimit = spec.rateLimit as { requestsPerSecond: number; burst?: number } | undefined;
  const snake: RegistrationSpec = {
    auto_triage: spec.autoTriage as boolean | undefined,
    playbook: spec.playbook as string | undefined,
    severity_mapping: spec.severityMapping as RegistrationSpec['severity_mapping'],
    format: spec.format as RegistrationSpec['format'],
    verification: spec.verification as RegistrationSpec['verification'],
    tolerance_seconds: spec.toleranceSeconds as number | undefined,
    max_body_bytes: spec.maxBodyBytes as number | undefined,
    rate_limit: rateLimit && { requests_per_second: rateLimit.requestsPerSecond, ...(rateLimit.burst !== undefined && { burst: rateLimit.burst }) },
    processing: spec.processing as RegistrationSpec['processing'],
    enabled: spec.suspend === undefined ? undefined : !(spec.suspend as boolean),
  };
  return withoutUndefined(snake);
}
