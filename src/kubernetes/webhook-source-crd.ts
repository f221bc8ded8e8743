import type { V1ObjectMeta } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import {
  SOURCE_NAME_MAX_LENGTH,
  SOURCE_NAME_PATTERN,
  SOURCE_SPEC_PROPERTIES,
  SPEC_RULES,
  crdKeys,
  type SourceSpec,
  type SpecRule,
  type SpecSchema,
} from '../sources/source-spec.js';

const GROUP = 'triagewarden.io';
const VERSION = 'v1alpha1';

/** Where WebhookSource objects live in the Kubernetes API: the one place the group and version are written. */
export const WEBHOOK_SOURCE_API = {
  group: GROUP,
  version: VERSION,
  apiVersion: `${GROUP}/${VERSION}`,
  plural: 'webhooksources',
  kind: 'WebhookSource',
} as const;

/** The collection path (every namespace when `namespace` is undefined), or one object's path. */
export function webhookSourcePath(namespace: string | undefined, name?: string): string {
  const collection = `/apis/${GROUP}/${VERSION}${namespace === undefined ? '' : `/namespaces/${namespace}`}/${WEBHOOK_SOURCE_API.plural}`;
  return name === undefined ? collection : `${collection}/${name}`;
}

/** Only Secrets carrying this label are watched (and so may be referenced): nothing else is read. */
export const SECRET_LABEL = `${GROUP}/webhook-secret`;
export const SECRET_SELECTOR = `${SECRET_LABEL}=true`;

/** The data key of the current secret when `secretRef.key` is unset (and the one the registration API writes). */
export const DEFAULT_SECRET_KEY = 'secret';
/** The data key the registration API keeps a rotated-out secret under. */
export const PREVIOUS_SECRET_KEY = 'previous';

/**
 * On a WebhookSource: when the secret under `secretRef.previousKey` stops being accepted (RFC 3339).
 * The registration API sets it on rotation; a GitOps user may set it too. Without it the previous
 * key is accepted until it is removed from the spec.
 */
export const PREVIOUS_KEY_EXPIRES_ANNOTATION = `${GROUP}/previous-secret-expires-at`;

/** Objects the registration API applies carry this label with FIELD_MANAGER; others are never taken over. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** The server-side apply field manager of every object the registration API writes. */
export const FIELD_MANAGER = 'tw-webhooks';

interface SecretRef {
  /** A Secret in the object's own namespace. */
  name: string;
  /** The API server defaults it to DEFAULT_SECRET_KEY. */
  key?: string;
  previousKey?: string;
}

export interface WebhookSourceSpec extends SourceSpec {
  /** The URL segment; `metadata.name` when unset. */
  sourceName?: string;
  secretRef: SecretRef;
}

/** metav1.Condition. */
export interface WebhookSourceCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  /** RFC 3339 date-time. */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface WebhookSourceStatus {
  observedGeneration?: number;
  /** The effective source name the controller resolved (spec.sourceName or metadata.name). */
  sourceName?: string;
  webhookPath?: string;
  /** RFC 3339 date-time of the last accepted event. */
  lastEventTime?: string;
  conditions?: WebhookSourceCondition[];
}

export interface WebhookSource {
  apiVersion: typeof WEBHOOK_SOURCE_API.apiVersion;
  kind: typeof WEBHOOK_SOURCE_API.kind;
  metadata: V1ObjectMeta;
  spec: WebhookSourceSpec;
  status?: WebhookSourceStatus;
}

/** The source name an object claims: `spec.sourceName`, else its own name (so the smallest YAML works). */
export function sourceNameOf(object: Pick<WebhookSource, 'metadata' | 'spec'>): string {
  return object.spec.sourceName ?? object.metadata.name ?? '';
}

/** The origin of an object's claim (`SourceClaim.origin`), which the registry's statuses are keyed by. */
export function webhookSourceOrigin(namespace: string, name: string): string {
  return `kubernetes:${namespace}/${name}`;
}

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const SECRET_DATA_KEY_BOUNDS = { minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' } as const;

interface CelRule {
  rule: string;
  message: string;
}

const celRulesAt = (at: SpecRule['at']): CelRule[] =>
  SPEC_RULES.filter((rule) => rule.at === at).map((rule) => ({ rule: rule.cel, message: rule.message(crdKeys) }));

type CrdSchema = Omit<SpecSchema, 'type' | 'properties' | 'additionalProperties'> & {
  type: string;
  format?: string;
  maxItems?: number;
  items?: CrdSchema;
  properties?: Record<string, CrdSchema>;
  additionalProperties?: CrdSchema;
  'x-kubernetes-validations'?: CelRule[];
  [extension: `x-kubernetes-${string}`]: unknown;
};

/** The spec's fields with the CEL rules attached where they belong. */
function specProperties(): Record<string, CrdSchema> {
  return Object.fromEntries(
    Object.entries(SOURCE_SPEC_PROPERTIES).map(([key, schema]) => {
      const rules = celRulesAt(key as SpecRule['at']);
      return [key, rules.length > 0 ? { ...schema, 'x-kubernetes-validations': rules } : schema];
    }),
  );
}

// The effective name may not change: senders are configured with the URL. Rules on the root see
// metadata.name; a rule using oldSelf runs on updates only.
const effectiveName = (object: string) => `(has(${object}.spec.sourceName) ? ${object}.spec.sourceName : ${object}.metadata.name)`;
const ROOT_RULES: CelRule[] = [
  {
    rule: `has(self.spec.sourceName) || (size(self.metadata.name) <= ${SOURCE_NAME_MAX_LENGTH} && self.metadata.name.matches('${SOURCE_NAME_PATTERN}'))`,
    message: `metadata.name is not a valid source name (a DNS label of at most ${SOURCE_NAME_MAX_LENGTH} characters): set spec.sourceName`,
  },
  {
    rule: `${effectiveName('self')} == ${effectiveName('oldSelf')}`,
    message: 'the source name (spec.sourceName, else metadata.name) is immutable; create a new WebhookSource to change the URL',
  },
];

const specSchema: CrdSchema = {
  type: 'object',
  required: ['secretRef'],
  'x-kubernetes-validations': celRulesAt(''),
  properties: {
    sourceName: {
      type: 'string',
      description:
        'The URL segment senders post to (/api/webhooks/<sourceName>), unique across the whole installation; ' +
        'metadata.name when unset. Immutable once the object exists: senders are configured with the URL.',
      minLength: 1,
      maxLength: SOURCE_NAME_MAX_LENGTH,
      pattern: SOURCE_NAME_PATTERN,
    },
    secretRef: {
      type: 'object',
      description: 'A Secret in this object\'s namespace, labelled triagewarden.io/webhook-secret: "true", holding the shared secret.',
      required: ['name'],
      'x-kubernetes-validations': [
        { rule: '!has(self.previousKey) || self.previousKey != self.key', message: 'previousKey must name a different key than key' },
      ],
      properties: {
        name: { type: 'string', description: "The Secret's name.", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
        key: { type: 'string', description: 'The data key of the current secret.', ...SECRET_DATA_KEY_BOUNDS, default: DEFAULT_SECRET_KEY },
        previousKey: {
          type: 'string',
          description: 'The data key of the secret being rotated out; requests signed with either are accepted until it is removed. The URL never changes.',
          ...SECRET_DATA_KEY_BOUNDS,
        },
      },
    },
    ...specProperties(),
  },
};

const int64 = { type: 'integer', format: 'int64', minimum: 0 } as const;

/** metav1.Condition, as controller-gen renders it. */
const conditionSchema: CrdSchema = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: int64,
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
    message: { type: 'string', maxLength: 32768 },
  },
};

const statusSchema: CrdSchema = {
  type: 'object',
  properties: {
    observedGeneration: { ...int64, description: 'The metadata.generation this status describes.' },
    sourceName: {
      type: 'string',
      description: 'The source name in effect: spec.sourceName, else metadata.name.',
      maxLength: SOURCE_NAME_MAX_LENGTH,
    },
    webhookPath: { type: 'string', description: 'Where senders post, e.g. /api/webhooks/email-gateway.', maxLength: 1024 },
    lastEventTime: { type: 'string', format: 'date-time', description: 'When the last event was accepted (updated at most once a minute).' },
    conditions: {
      type: 'array',
      description: 'Ready and SecretResolved, with reasons such as SecretNotFound, KeyMissing, SourceConflict, Suspended.',
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: conditionSchema,
    },
  },
};

/** The WebhookSource CustomResourceDefinition, derived from the one source spec. */
function webhookSourceCrd(): Record<string, unknown> {
  const { group, version, plural, kind } = WEBHOOK_SOURCE_API;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames: ['whs'], categories: ['triagewarden'] },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Source', type: 'string', jsonPath: '.status.sourceName' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            { name: 'Path', type: 'string', jsonPath: '.status.webhookPath' },
            { name: 'Format', type: 'string', jsonPath: '.spec.format', priority: 1 },
            { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A sender of signed webhooks, received at /api/webhooks/<source name>.',
              required: ['spec'],
              'x-kubernetes-validations': ROOT_RULES,
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = `# Generated by \`npm run generate:crds\` from src/sources/source-spec.ts and src/kubernetes/webhook-source-crd.ts:
# edit those, not this file (test/unit/sources/source-spec.test.ts fails when the two differ).
#
# WebhookSource: one sender of signed security webhooks (docs/sources.md). Secrets are only
# referenced, never embedded, and only from the object's own namespace. The API server enforces the
# bounds and CEL rules below, so a bad object is rejected at \`kubectl apply\` time instead of at the
# first webhook.
`;

/** The CRD file's text, exactly as checked in under crds/. */
export function renderWebhookSourceCrd(): string {
  return HEADER + stringify(webhookSourceCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
