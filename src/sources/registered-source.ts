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
