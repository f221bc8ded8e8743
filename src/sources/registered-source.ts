import { DomainError } from '../core/errors.js';
import type { SourceSpec } from './source-spec.js';

/** What a registration declares besides its secrets: the one source spec (camelCase, as the CRD). */
export type RegistrationSpec = SourceSpec;

/** A source registered through the API, as the store keeps it. Secrets are sealed (see secret-box.ts). */
export interface RegisteredSourceRecord {
  name: string;
  spec: RegistrationSpec;
  secret: string;
  /** The secret replaced by the last rotation, accepted until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RegisteredSourceStore {
  /** false when the name is already stored. */
  insertRegisteredSource(record: RegisteredSourceRecord): Promise<boolean>;
  getRegisteredSource(name: string): Promise<RegisteredSourceRecord | undefined>;
  /** By name. */
  listRegisteredSources(): Promise<RegisteredSourceRecord[]>;
  /** false when the name is not stored (any more). */
  replaceRegisteredSource(record: RegisteredSourceRecord): Promise<boolean>;
  deleteRegisteredSource(name: string): Promise<boolean>;
}

export interface NewRegistration {
  name: string;
  secret: string;
  /** A secret the sender may still be using (e.g. when moving a source from a file to the API). */
  previousSecret?: string;
  spec: RegistrationSpec;
}

export interface RegistrationChange {
  /** A new current secret; the old one keeps verifying for the rotation grace period. */
  secret?: string;
  /** Keys to set; the others keep their values. */
  spec: RegistrationSpec;
}

/** Where the registration API writes: the store, or the cluster in Kubernetes mode. */
export interface Registrations {
  /** Throws DomainError conflict when the name is already registered here. */
  create(registration: NewRegistration): Promise<void>;
  /** The spec after the change; throws DomainError unknown_source when the name is not registered here. */
  update(name: string, change: RegistrationChange): Promise<RegistrationSpec>;
  /** Throws DomainError unknown_source when the name is not registered here. */
  remove(name: string): Promise<void>;
  /** The spec as stored here, or undefined. */
  spec(name: string): Promise<RegistrationSpec | undefined>;
  /** Kubernetes mode: the user the cluster sees writing (for the audit log, to match the cluster's own). */
  identity?(): Promise<string | undefined>;
}

export function notRegistered(name: string): DomainError {
  return new DomainError('unknown_source', `Webhook source '${name}' is not registered`);
}
