import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { DomainError } from '../../../core/errors.js';
import { PREVIOUS_KEY_EXPIRES_ANNOTATION } from '../../webhook-source-crd.js';
import type { RegistrationSpec } from './registered-source.js';
import { PREVIOUS_SECRET_KEY, SECRET_KEY, secretNameOf, sourceManifests, specFromWebhookSource } from './manifests.js';
import { notRegistered, type NewRegistration, type RegistrationChange, type Registrations } from './store-registrations.js';

/** The field manager of every object the registration API applies. */
const FIELD_MANAGER = 'tw-webhooks';
const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** When a rotated-out secret stops being needed; informational until the controller prunes it. */

type WebhookSourceObject = KubernetesObject & { spec: Record<string, unknown> };
type SecretObject = KubernetesObject & { data?: Record<string, string> };

/**
 * Kubernetes mode: the registration API writes a `WebhookSource` and its labelled `Secret` by
 * server-side apply (field manager `tw-webhooks`), so the cluster stays the source of truth and
 * the kubernetes provider serves the source like any object applied by GitOps. Objects not applied
 * by us are a conflict, never taken over.
 */
export class KubernetesRegistrations implements Registrations {
  constructor(
    private readonly objects: KubernetesObjectApi,
    private readonly namespace: string,
    private readonly rotationGraceSeconds: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async create(registration: NewRegistration): Promise<void> {
    if (await this.read('triagewarden.io/v1alpha1', 'WebhookSource', registration.name)) {
      throw new DomainError('conflict', `Webhook source '${registration.name}' is already registered (WebhookSource ${this.namespace}/${registration.name})`);
    }
    await this.applyBoth({ name: registration.name, secret: registration.secret, previousSecret: registration.previousSecret, spec: registration.spec });
  }

  async update(name: string, change: RegistrationChange): Promise<RegistrationSpec> {
    const current = await this.ours(name);
    const secret = await this.read<SecretObject>('v1', 'Secret', secretNameOf(name));
    const stored = (key: string) => (secret?.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString('utf8'));
    const currentSecret = stored(SECRET_KEY);
    if (currentSecret === undefined)
      throw new DomainError(
        'conflict',
        `Secret ${this.namespace}/${secretNameOf(name)} of webhook source '${name}' is missing; remove and add the source again`,
      );
    const spec = { ...specFromWebhookSource(current.spec), ...change.spec };
    const rotating = change.secret !== undefined;
    await this.applyBoth(
      { name, secret: change.secret ?? currentSecret, previousSecret: rotating ? currentSecret : stored(PREVIOUS_SECRET_KEY), spec },
      rotating ? new Date(this.nowMs() + this.rotationGraceSeconds * 1000).toISOString() : current.metadata?.annotations?.[PREVIOUS_KEY_EXPIRES_ANNOTATION],
    );
    return spec;
  }

  async remove(name: string): Promise<void> {
    const current = await this.ours(name);
    await this.call(() => this.objects.delete(current));
    await this.call(() => this.objects.delete({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretNameOf(name), namespace: this.namespace } })).catch(
      (error: unknown) => {
        if (!(error instanceof DomainError && error.code === 'unknown_source')) throw error;
      },
    );
  }

  async spec(name: string): Promise<RegistrationSpec | undefined> {
    const current = await this.read<WebhookSourceObject>('triagewarden.io/v1alpha1', 'WebhookSource', name);
    return current && current.metadata?.labels?.[MANAGED_BY] === FIELD_MANAGER ? specFromWebhookSource(current.spec) : undefined;
  }

  /** The Secret first, so the WebhookSource never points at a secret that is not there yet. */
  private async applyBoth(
    input: { name: string; secret: string; previousSecret: string | undefined; spec: RegistrationSpec },
    previousExpiresAt?: string,
  ): Promise<void> {
    const [webhookSource, secret] = sourceManifests({ ...input, namespace: this.namespace });
    if (previousExpiresAt !== undefined && input.previousSecret !== undefined) {
      (webhookSource.metadata as { annotations?: Record<string, string> }).annotations = { [PREVIOUS_KEY_EXPIRES_ANNOTATION]: previousExpiresAt };
    }
    for (const object of [secret, webhookSource]) {
      await this.call(() => this.objects.patch(object as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
    }
  }

  private async ours(name: string): Promise<WebhookSourceObject> {
    const current = await this.read<WebhookSourceObject>('triagewarden.io/v1alpha1', 'WebhookSource', name);
    if (!current) throw notRegistered(name);
    if (current.metadata?.labels?.[MANAGED_BY] !== FIELD_MANAGER) {
      throw new DomainError('conflict', `WebhookSource ${this.namespace}/${name} is not managed by the registration API; change it where it is declared`);
    }
    return current;
  }

  private async read<T extends KubernetesObject>(apiVersion: string, kind: string, name: string): Promise<T | undefined> {
    try {
      return await this.call(() => this.objects.read<T>({ apiVersion, kind, metadata: { name, namespace: this.namespace } }));
    } catch (error) {
      if (error instanceof DomainError && error.code === 'unknown_source') return undefined;
      throw error;
    }
  }

  /** API server answers as domain errors: 404 → unknown_source, 409 → conflict, 422 → bad_request, the rest unavailable. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const status = (error as { code?: number }).code;
      const message = apiServerMessage(error);
      if (status === 404) throw new DomainError('unknown_source', message);
      if (status === 409) throw new DomainError('conflict', message);
      if (status === 422 || status === 400) throw new DomainError('bad_request', `The Kubernetes API server refused the object: ${message}`);
      throw new DomainError('unavailable', `The Kubernetes API server could not take the write: ${message}`, { retryAfterSeconds: 5 });
    }
  }
}

function apiServerMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? (error as Error).message;
}
