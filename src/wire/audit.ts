import { AUDIT_ACTIONS, type AuditRecord } from '../audit/audit.js';

/** An audit record as the API shows it. */
export function auditJson(record: AuditRecord) {
  return {
    id: record.id,
    at: record.at,
    actor: { key_id: record.actor.keyId, key_name: record.actor.keyName, kubernetes_user: record.actor.kubernetesUser },
    action: record.action,
    target: record.target,
    details: record.details,
  };
}

/** The schema of auditJson (the OpenAPI document's `AuditRecord`). */
export const AUDIT_JSON_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    actor: {
      type: 'object',
      properties: {
        key_id: { type: 'string', description: 'The API key, or `bootstrap` for TW_API_TOKEN' },
        key_name: { type: 'string' },
        kubernetes_user: { type: ['string', 'null'], description: 'Kubernetes mode: the user the cluster saw write the objects' },
      },
    },
    action: { enum: AUDIT_ACTIONS },
    target: { type: 'string', description: 'The API key id or source name' },
    details: { type: 'object', description: 'What changed, by name only; never a secret' },
  },
};
