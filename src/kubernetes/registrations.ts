import { DomainError } from '../core/errors.js';
import { notRegistered, type NewRegistration, type RegistrationChange, type Registrations, type RegistrationSpec } from '../sources/registered-source.js';
import type { V1ObjectMeta } from '@kubernetes/client-node';
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

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string } };
}

/** What the checks read of an object the API server returns. */
type Stored<T> = T & { metadata: Pick<V1ObjectMeta, 'uid' | 'resourceVersion' | 'labels' | 'managedFields'> };

/**
 * Kubernetes mode: the registration API writes a `WebhookSource` and its labelled `Secret` by
 * server-side apply (field manager `tw-webhooks`) into its own namespace (TW_REGISTRATION_NAMESPACE),
 * so the cluster stays the source of truth and the kubernetes provider serves the source like any
 * object applied by GitOps. It applies and deletes only objects it made, checked before each write
 * against the very version it writes (the apply carries the read resourceVersion, the delete its
 * uid and resourceVersion as preconditions), and never forces: another manager's object, or one
 * another manager changed since, is a 409, never taken over.
 */
export class KubernetesRegistrations implements Registrations {
  private whoAmI: Promise<string | undefined> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly rotationGraceSeconds: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async create(registration: NewRegistration): Promise<void> {
    const { name } = registration;
    if (await this.read<WebhookSource>(webhookSourcePath(this.namespace, name))) {
      throw new DomainError('conflict', `Webhook source '${name}' is already registered (WebhookSource ${this.namespace}/${name})`);
    }
    // A Secret of that name left by an earlier registration of ours is reused; anyone else's is refused.
    const secret = await this.read<Stored<SecretManifest>>(this.secretPath(name));
    if (secret) this.refuseForeign(secret, `Secret ${this.namespace}/${secretNameOf(name)}`);
    await this.applyBoth({ name, secret: registration.secret, previousSecret: registration.previousSecret, spec: registration.spec }, { secret });
  }

  /** A status write by the controller between the check and the apply changes the resourceVersion: checked and tried again. */
  update(name: string, change: RegistrationChange): Promise<RegistrationSpec> {
    return checkedAgainOnConflict(() => this.updateOnce(name, change));
  }

  remove(name: string): Promise<void> {
    return checkedAgainOnConflict(() => this.removeOnce(name));
  }

  private async updateOnce(name: string, change: RegistrationChange): Promise<RegistrationSpec> {
    const current = await this.ours(name);
    const secret = await this.read<Stored<SecretManifest>>(this.secretPath(name));
    const stored = (key: string) => (secret?.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString('utf8'));
    const currentSecret = stored(DEFAULT_SECRET_KEY);
    if (!secret || currentSecret === undefined)
      throw new DomainError(
        'conflict',
        `Secret ${this.namespace}/${secretNameOf(name)} of webhook source '${name}' is missing; remove and add the source again`,
      );
    this.refuseForeign(secret, `Secret ${this.namespace}/${secretNameOf(name)}`);
    const spec = { ...specFromWebhookSource(current.spec), ...change.spec };
    const rotating = change.secret !== undefined;
    await this.applyBoth(
      { name, secret: change.secret ?? currentSecret, previousSecret: rotating ? currentSecret : stored(PREVIOUS_SECRET_KEY), spec },
      { secret, webhookSource: current },
      rotating ? new Date(this.nowMs() + this.rotationGraceSeconds * 1000).toISOString() : current.metadata.annotations?.[PREVIOUS_KEY_EXPIRES_ANNOTATION],
    );
    return spec;
  }

  /** Deletes the WebhookSource, and its Secret only if that is ours too (someone else's is left alone). */
  private async removeOnce(name: string): Promise<void> {
    const current = await this.ours(name);
    const secret = await this.read<Stored<SecretManifest>>(this.secretPath(name));
    await this.deleteExactly(webhookSourcePath(this.namespace, name), current);
    if (secret && madeByUs(secret)) {
      await this.deleteExactly(this.secretPath(name), secret).catch((error: unknown) => {
        if (!(error instanceof DomainError && error.code === 'unknown_source')) throw error;
      });
    }
  }

  /** The user this service writes as, asked once (a SelfSubjectReview, which any authenticated user may make), for the audit log. */
  identity(): Promise<string | undefined> {
    this.whoAmI ??= this.client
      .request<SelfSubjectReview>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      })
      .then(
        (review) => review.status?.userInfo?.username,
        () => {
          this.whoAmI = undefined; // asked again next time
          return undefined;
        },
      );
    return this.whoAmI;
  }

  async spec(name: string): Promise<RegistrationSpec | undefined> {
    const current = await this.read<Stored<WebhookSource>>(webhookSourcePath(this.namespace, name));
    return current && madeByUs(current) ? specFromWebhookSource(current.spec) : undefined;
  }

  /**
   * The Secret first, so the WebhookSource never points at a secret that is not there yet. Each
   * apply carries the resourceVersion of the object as checked (none when it did not exist), so a
   * change between the check and the write fails it; and none is forced.
   */
  private async applyBoth(
    input: { name: string; secret: string; previousSecret: string | undefined; spec: RegistrationSpec },
    checked: { secret?: Stored<SecretManifest> | undefined; webhookSource?: Stored<WebhookSource> },
    previousExpiresAt?: string,
  ): Promise<void> {
    const [webhookSource, secret] = sourceManifests({ ...input, namespace: this.namespace });
    if (previousExpiresAt !== undefined && input.previousSecret !== undefined) {
      webhookSource.metadata.annotations = { [PREVIOUS_KEY_EXPIRES_ANNOTATION]: previousExpiresAt };
    }
    const apply = `?fieldManager=${FIELD_MANAGER}`;
    const at = (object: object, version: string | undefined) =>
      version === undefined ? object : { ...object, metadata: { ...(object as { metadata: object }).metadata, resourceVersion: version } };
    await this.call('PATCH', this.secretPath(input.name) + apply, at(secret, checked.secret?.metadata.resourceVersion), APPLY_PATCH);
    await this.call(
      'PATCH',
      webhookSourcePath(this.namespace, input.name) + apply,
      at(webhookSource, checked.webhookSource?.metadata.resourceVersion),
      APPLY_PATCH,
    );
  }

  private async ours(name: string): Promise<Stored<WebhookSource>> {
    const current = await this.read<Stored<WebhookSource>>(webhookSourcePath(this.namespace, name));
    if (!current) throw notRegistered(name);
    if (!madeByUs(current)) {
      throw new DomainError('conflict', `WebhookSource ${this.namespace}/${name} is not managed by the registration API; change it where it is declared`);
    }
    return current;
  }

  private refuseForeign(object: Stored<object>, what: string): void {
    if (!madeByUs(object)) throw new DomainError('conflict', `${what} exists and was not made by the registration API; it is never taken over`);
  }

  /** A delete of exactly the object that was checked: another object of the name, or a newer version, is a 409. */
  private async deleteExactly(path: string, object: Stored<object>): Promise<void> {
    const { uid, resourceVersion } = object.metadata;
    await this.call('DELETE', path, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid, resourceVersion } });
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

/**
 * Made by the registration API: labelled `managed-by: tw-webhooks` and with fields managed by the
 * `tw-webhooks` field manager. A label alone anyone can write; the API server records who wrote
 * which fields. (In the registration namespace only the service should write at all: RBAC.)
 */
function madeByUs(object: Stored<object>): boolean {
  const { labels, managedFields } = object.metadata;
  return labels?.[MANAGED_BY_LABEL] === FIELD_MANAGER && (managedFields ?? []).some((entry) => entry.manager === FIELD_MANAGER);
}

/** Writes made after a check, tried up to three times while the write conflicts (each time checking again). */
async function checkedAgainOnConflict<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'conflict') || attempt === 3) throw error;
    }
  }
}
