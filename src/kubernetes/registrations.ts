import { DomainError } from '../core/errors.js';
import { notRegistered, type NewRegistration, type RegistrationChange, type Registrations, type RegistrationSpec } from '../sources/registered-source.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import { secretNameOf, sourceManifests, specFromWebhookSource, type SecretManifest } from './manifests.js';
import {
  DEFAULT_SECRET_KEY,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  PREVIOUS_KEY_EXPIRES_ANNOTATION,
  PREVIOUS_SECRET_KEY,
  webhookSourcePath,
  type WebhookSource,
} from './webhook-source-crd.js';

/** Server-side apply: the body is the object as we want our fields to be (JSON is YAML). */
const APPLY_PATCH = 'application/apply-patch+yaml';

/**
 * Kubernetes mode: the registration API writes a `WebhookSource` and its labelled `Secret` by
 * server-side apply (field manager `tw-webhooks`), so the cluster stays the source of truth and
 * the kubernetes provider serves the source like any object applied by GitOps. Objects not applied
 * by us are a conflict, never taken over. Writes go through the wing's one client.
 */
export class KubernetesRegistrations implements Registrations {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly rotationGraceSeconds: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async create(registration: NewRegistration): Promise<void> {
    if (await this.read<WebhookSource>(webhookSourcePath(this.namespace, registration.name))) {
      throw new DomainError('conflict', `Webhook source '${registration.name}' is already registered (WebhookSource ${this.namespace}/${registration.name})`);
    }
    await this.applyBoth({ name: registration.name, secret: registration.secret, previousSecret: registration.previousSecret, spec: registration.spec });
  }

  async update(name: string, change: RegistrationChange): Promise<RegistrationSpec> {
    const current = await this.ours(name);
    const secret = await this.read<SecretManifest>(this.secretPath(name));
    const stored = (key: string) => (secret?.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString('utf8'));
    const currentSecret = stored(DEFAULT_SECRET_KEY);
    if (currentSecret === undefined)
      throw new DomainError(
        'conflict',
        `Secret ${this.namespace}/${secretNameOf(name)} of webhook source '${name}' is missing; remove and add the source again`,
      );
    const spec = { ...specFromWebhookSource(current.spec), ...change.spec };
    const rotating = change.secret !== undefined;
    await this.applyBoth(
      { name, secret: change.secret ?? currentSecret, previousSecret: rotating ? currentSecret : stored(PREVIOUS_SECRET_KEY), spec },
      rotating ? new Date(this.nowMs() + this.rotationGraceSeconds * 1000).toISOString() : current.metadata.annotations?.[PREVIOUS_KEY_EXPIRES_ANNOTATION],
    );
    return spec;
  }

  async remove(name: string): Promise<void> {
    await this.ours(name);
    await this.call('DELETE', webhookSourcePath(this.namespace, name));
    await this.call('DELETE', this.secretPath(name)).catch((error: unknown) => {
      if (!(error instanceof DomainError && error.code === 'unknown_source')) throw error;
    });
  }

  async spec(name: string): Promise<RegistrationSpec | undefined> {
    const current = await this.read<WebhookSource>(webhookSourcePath(this.namespace, name));
    return current && current.metadata.labels?.[MANAGED_BY_LABEL] === FIELD_MANAGER ? specFromWebhookSource(current.spec) : undefined;
  }

  /** The Secret first, so the WebhookSource never points at a secret that is not there yet. */
  private async applyBoth(
    input: { name: string; secret: string; previousSecret: string | undefined; spec: RegistrationSpec },
    previousExpiresAt?: string,
  ): Promise<void> {
    const [webhookSource, secret] = sourceManifests({ ...input, namespace: this.namespace });
    if (previousExpiresAt !== undefined && input.previousSecret !== undefined) {
      webhookSource.metadata.annotations = { [PREVIOUS_KEY_EXPIRES_ANNOTATION]: previousExpiresAt };
    }
    const apply = `?fieldManager=${FIELD_MANAGER}&force=true`;
    await this.call('PATCH', this.secretPath(input.name) + apply, secret, APPLY_PATCH);
    await this.call('PATCH', webhookSourcePath(this.namespace, input.name) + apply, webhookSource, APPLY_PATCH);
  }

  private async ours(name: string): Promise<WebhookSource> {
    const current = await this.read<WebhookSource>(webhookSourcePath(this.namespace, name));
    if (!current) throw notRegistered(name);
    if (current.metadata.labels?.[MANAGED_BY_LABEL] !== FIELD_MANAGER) {
      throw new DomainError('conflict', `WebhookSource ${this.namespace}/${name} is not managed by the registration API; change it where it is declared`);
    }
    return current;
  }

  private secretPath(name: string): string {
    return `/api/v1/namespaces/${this.namespace}/secrets/${secretNameOf(name)}`;
  }

  private async read<T>(path: string): Promise<T | undefined> {
    try {
      return await this.call<T>('GET', path);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'unknown_source') return undefined;
      throw error;
    }
  }

  /** API server answers as domain errors: 404 → unknown_source, 409 → conflict, 422 → bad_request, the rest unavailable. */
  private async call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    try {
      return await this.client.request<T>(method, path, body, contentType);
    } catch (error) {
      const status = error instanceof KubeApiError ? error.status : undefined;
      const message = error instanceof KubeApiError ? error.serverMessage : (error as Error).message;
      if (status === 404) throw new DomainError('unknown_source', message);
      if (status === 409) throw new DomainError('conflict', message);
      if (status === 422 || status === 400) throw new DomainError('bad_request', `The Kubernetes API server refused the object: ${message}`);
      throw new DomainError('unavailable', `The Kubernetes API server could not take the write: ${message}`, { retryAfterSeconds: 5 });
    }
  }
}
