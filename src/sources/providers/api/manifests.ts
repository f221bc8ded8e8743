import { SOURCE_SPEC_PROPERTIES } from '../../source-spec.js';
import type { RegistrationSpec } from './registered-source.js';

/** The label the kubernetes provider selects Secrets by. */
const WEBHOOK_SECRET_LABEL = 'triagewarden.io/webhook-secret';
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
    // The registration's spec is the CRD's spec (one source spec): only the name and secret reference are added.
    spec: {
      sourceName: name,
      secretRef: { name: secretNameOf(name), key: SECRET_KEY, ...(input.previousSecret !== undefined && { previousKey: PREVIOUS_SECRET_KEY }) },
      ...spec,
    },
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

/** A WebhookSource's spec as a registration's: the source spec's fields, without name and secret reference. */
export function specFromWebhookSource(spec: Record<string, unknown>): RegistrationSpec {
  return Object.fromEntries(Object.entries(spec).filter(([key]) => Object.hasOwn(SOURCE_SPEC_PROPERTIES, key)));
}
