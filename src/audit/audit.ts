import { randomUUID } from 'node:crypto';

/** Changes the audit log records: every change to API keys and to sources registered through the API. */
export const AUDIT_ACTIONS = ['apikey.create', 'apikey.revoke', 'source.register', 'source.update', 'source.remove'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who made a change: the API key (or the bootstrap key), and in Kubernetes mode the user the cluster saw write. */
interface AuditActor {
  keyId: string;
  /** The key's name when the change was made (keys are revoked, so it is kept here). */
  keyName: string;
  /** Kubernetes mode: the user the objects were written as, to match the cluster's own audit log. */
  kubernetesUser: string | null;
}

export interface AuditRecord {
  /** `audit-<uuid>`. */
  id: string;
  /** ISO time of the change. */
  at: string;
  actor: AuditActor;
  action: AuditAction;
  /** The key id or the source name changed. */
  target: string;
  /** What changed, by name only (scopes, the keys set, whether the secret rotated): never a secret. */
  details: Record<string, unknown>;
}

export interface AuditStore {
  appendAudit(record: AuditRecord): Promise<void>;
  /** Newest first; `target` keeps one key's or source's records. */
  listAudit(query: { limit: number; target?: string }): Promise<AuditRecord[]>;
}

export function newAuditRecord(input: Omit<AuditRecord, 'id' | 'at'>, now: Date): AuditRecord {
  return { id: `audit-${randomUUID()}`, at: now.toISOString(), ...input };
}
