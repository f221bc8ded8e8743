import type { Format, Severity } from '../../../incidents/model.js';
import { SOURCE_NAME } from '../../../config/webhook-config.js';
import { SOURCE_DEFAULTS, type Source, type VerificationProfile } from '../../source.js';
import type { CachedObject } from './informer.js';

export const GROUP = 'triagewarden.io';
export const VERSION = 'v1alpha1';
export const KIND = 'WebhookSource';
export const PLURAL = 'webhooksources';
/** Only Secrets carrying this label are watched (and so may be referenced): nothing else is read. */
export const SECRET_LABEL = 'triagewarden.io/webhook-secret';
export const SECRET_SELECTOR = `${SECRET_LABEL}=true`;

/** `spec` as the CRD admits it (camelCase, defaults applied by the API server). */
export interface WebhookSourceSpec {
  sourceName?: string;
  format?: Format;
  verification?: VerificationProfile;
  secretRef: { name: string; key?: string; previousKey?: string };
  autoTriage?: boolean;
  playbook?: string;
  severityMapping?: Record<string, Severity>;
  toleranceSeconds?: number;
  maxBodyBytes?: number;
  rateLimit?: { requestsPerSecond: number; burst?: number };
  processing?: 'sync' | 'async';
  suspend?: boolean;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface WebhookSourceStatus {
  observedGeneration?: number;
  sourceName?: string;
  webhookPath?: string;
  lastEventTime?: string;
  conditions?: Condition[];
}

/** The cached view of a WebhookSource: what the provider and the reconciler read, nothing more. */
export interface WebhookSourceObject extends CachedObject {
  uid: string;
  generation: number;
  creationTimestamp: string;
  spec: WebhookSourceSpec;
  status: WebhookSourceStatus;
}

/** The cached view of a labelled Secret: its decoded keys only. */
export interface SecretObject extends CachedObject {
  data: ReadonlyMap<string, Buffer>;
}

interface RawMetadata {
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
}

export function toWebhookSourceObject(raw: Record<string, unknown>): WebhookSourceObject {
  const metadata = (raw.metadata ?? {}) as RawMetadata;
  return {
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    resourceVersion: metadata.resourceVersion ?? '',
    generation: metadata.generation ?? 0,
    creationTimestamp: metadata.creationTimestamp ?? '',
    spec: (raw.spec ?? { secretRef: { name: '' } }) as WebhookSourceSpec,
    status: (raw.status ?? {}) as WebhookSourceStatus,
  };
}

export function toSecretObject(raw: Record<string, unknown>): SecretObject {
  const metadata = (raw.metadata ?? {}) as RawMetadata;
  const data = new Map<string, Buffer>();
  for (const [key, value] of Object.entries((raw.data ?? {}) as Record<string, string>)) data.set(key, Buffer.from(value, 'base64'));
  return { namespace: metadata.namespace ?? '', name: metadata.name ?? '', resourceVersion: metadata.resourceVersion ?? '', data };
}

/** The URL segment: `spec.sourceName`, or the object's own name so the smallest YAML works. */
export function sourceNameOf(object: WebhookSourceObject): string {
  return object.spec.sourceName ?? object.name;
}

export function originOf(object: { namespace: string; name: string }): string {
  return `kubernetes:${object.namespace}/${object.name}`;
}

export const isValidSourceName = (name: string): boolean => SOURCE_NAME.test(name);

/** What the Secret cache says about an object's secretRef. `unlabelled` is only known after a GET. */
export type SecretView =
  | { state: 'resolved'; secrets: readonly Buffer[]; missingPreviousKey: boolean }
  | { state: 'not-found' }
  | { state: 'unlabelled' }
  | { state: 'key-missing'; key: string };

/** Reads the referenced keys out of a cached Secret of the object's own namespace. */
export function resolveSecret(object: WebhookSourceObject, secret: SecretObject | undefined): SecretView {
  if (!secret) return { state: 'not-found' };
  const { key = 'secret', previousKey } = object.spec.secretRef;
  const current = secret.data.get(key);
  if (!current || current.length === 0) return { state: 'key-missing', key };
  const previous = previousKey === undefined ? undefined : secret.data.get(previousKey);
  return {
    state: 'resolved',
    secrets: previous && previous.length > 0 ? [current, previous] : [current],
    missingPreviousKey: previousKey !== undefined && !previous?.length,
  };
}

/**
 * The Source one object declares. It is emitted even when it cannot serve (suspended, secret not
 * resolved): it still holds its name, so a passing secret problem never hands the URL to another
 * object; `enabled: false` answers unknown_source.
 */
export function toSource(object: WebhookSourceObject, secret: SecretView): Source {
  const { spec } = object;
  const resolved = secret.state === 'resolved';
  return {
    name: sourceNameOf(object),
    secrets: resolved ? secret.secrets : [],
    verification: spec.verification ?? SOURCE_DEFAULTS.verification,
    format: spec.format,
    autoTriage: spec.autoTriage ?? false,
    playbook: spec.playbook,
    severityMapping: spec.severityMapping ?? {},
    toleranceSeconds: spec.toleranceSeconds ?? SOURCE_DEFAULTS.toleranceSeconds,
    maxBodyBytes: spec.maxBodyBytes ?? SOURCE_DEFAULTS.maxBodyBytes,
    rateLimit: spec.rateLimit && { requestsPerSecond: spec.rateLimit.requestsPerSecond, burst: spec.rateLimit.burst ?? spec.rateLimit.requestsPerSecond },
    processing: spec.processing ?? SOURCE_DEFAULTS.processing,
    enabled: resolved && spec.suspend !== true,
    origin: originOf(object),
  };
}
