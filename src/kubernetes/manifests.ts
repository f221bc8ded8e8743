import { SOURCE_SPEC_PROPERTIES } from '../sources/source-spec.js';
import type { RegistrationSpec } from '../sources/registered-source.js';
import {
  DEFAULT_SECRET_KEY,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  PREVIOUS_SECRET_KEY,
  SECRET_LABEL,
  WEBHOOK_SOURCE_API,
  type WebhookSource,
} from './webhook-source-crd.js';

export interface SourceManifestInput {
  name: string;
  namespace: string | undefined;
  secret: string;
  previousSecret?: string | undefined;
  spec: RegistrationSpec;
}

/** A Secret as the API server takes and returns it (only what is read or written here). */
export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

export function secretNameOf(source: string): string {
  return `${source}-webhook-secret`;
}

/**
 * A source as the two objects the cluster keeps: a `WebhookSource` (the config file's keys in the
 * CRD's camelCase) and the labelled `Secret` it references. `tw-cli webhook add --output yaml`
 * prints them for GitOps; the registration API applies them in Kubernetes mode.
 */
export function sourceManifests(input: SourceManifestInput): [WebhookSource, SecretManifest] {
  const { name, namespace, spec } = input;
  const metadata = (objectName: string, labels: Record<string, string>) => ({
    name: objectName,
    ...(namespace !== undefined && { namespace }),
    labels: { [MANAGED_BY_LABEL]: FIELD_MANAGER, ...labels },
  });
  const webhookSource: WebhookSource = {
    apiVersion: WEBHOOK_SOURCE_API.apiVersion,
    kind: WEBHOOK_SOURCE_API.kind,
    metadata: metadata(name, {}),
    // The registration's spec is the CRD's spec (one source spec): only the name and secret reference are added.
    spec: {
      sourceName: name,
      secretRef: { name: secretNameOf(name), key: DEFAULT_SECRET_KEY, ...(input.previousSecret !== undefined && { previousKey: PREVIOUS_SECRET_KEY }) },
      ...spec,
    },
  };
  const data: Record<string, string> = { [DEFAULT_SECRET_KEY]: Buffer.from(input.secret, 'utf8').toString('base64') };
  if (input.previousSecret !== undefined) data[PREVIOUS_SECRET_KEY] = Buffer.from(input.previousSecret, 'utf8').toString('base64');
  const secret: SecretManifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(secretNameOf(name), { [SECRET_LABEL]: 'true' }),
    type: 'Opaque',
    data,
  };
  return [webhookSource, secret];
}

/** A WebhookSource's spec as a registration's: the source spec's fields, without name and secret reference. */
export function specFromWebhookSource(spec: object): RegistrationSpec {
  return Object.fromEntries(Object.entries(spec).filter(([key]) => Object.hasOwn(SOURCE_SPEC_PROPERTIES, key)));
}
