import { DomainError } from '../../core/errors.js';
import {
  notRegistered,
  type NewRegistration,
  type RegisteredSourceStore,
  type RegistrationChange,
  type Registrations,
  type RegistrationSpec,
} from '../../sources/registered-source.js';
import type { SecretBox } from './secret-box.js';

export interface StoreRegistrationsOptions {
  store: RegisteredSourceStore;
  box: SecretBox;
  rotationGraceSeconds: number;
  /** After each write: the local provider re-reads, so the answer reflects the write. */
  written: () => Promise<void>;
  nowMs?: () => number;
}

/** Registrations in the store, secrets sealed (see SecretBox); served by ApiSourceProvider. */
export class StoreRegistrations implements Registrations {
  private readonly nowMs: () => number;

  constructor(private readonly options: StoreRegistrationsOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  async create(registration: NewRegistration): Promise<void> {
    const { box, store } = this.options;
    const now = new Date(this.nowMs()).toISOString();
    const graceEnd = new Date(this.nowMs() + this.options.rotationGraceSeconds * 1000).toISOString();
    const inserted = await store.insertRegisteredSource({
      name: registration.name,
      spec: registration.spec,
      secret: box.seal(registration.secret, registration.name),
      previousSecret: registration.previousSecret === undefined ? null : box.seal(registration.previousSecret, registration.name),
      previousSecretExpiresAt: registration.previousSecret === undefined ? null : graceEnd,
      createdAt: now,
      updatedAt: now,
    });
    if (!inserted) throw new DomainError('conflict', `Webhook source '${registration.name}' is already registered`);
    await this.options.written();
  }

  async update(name: string, change: RegistrationChange): Promise<RegistrationSpec> {
    const { box, store } = this.options;
    const record = await store.getRegisteredSource(name);
    if (!record) throw notRegistered(name);
    const nowMs = this.nowMs();
    const rotated =
      change.secret === undefined
        ? {}
        : {
            secret: box.seal(change.secret, name),
            previousSecret: record.secret,
            previousSecretExpiresAt: new Date(nowMs + this.options.rotationGraceSeconds * 1000).toISOString(),
          };
    const spec = { ...record.spec, ...change.spec };
    if (!(await store.replaceRegisteredSource({ ...record, ...rotated, spec, updatedAt: new Date(nowMs).toISOString() }))) throw notRegistered(name);
    await this.options.written();
    return spec;
  }

  async remove(name: string): Promise<void> {
    if (!(await this.options.store.deleteRegisteredSource(name))) throw notRegistered(name);
    await this.options.written();
  }

  async spec(name: string): Promise<RegistrationSpec | undefined> {
    return (await this.options.store.getRegisteredSource(name))?.spec;
  }
}
