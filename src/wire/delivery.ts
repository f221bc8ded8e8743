import type { DeliveryRecord } from '../incidents/ports.js';

/** One delivery-log record as the API shows it (`GET /api/deliveries`, `GET /api/logs`). */
export function deliveryJson(record: DeliveryRecord) {
  return {
    at: record.at,
    source: record.source,
    status: record.status,
    code: record.code,
    latency_ms: record.latencyMs,
    incident_id: record.incidentId,
    incident_number: record.incidentNumber,
    queue_id: record.queueId,
    remote_address: record.remoteAddress,
  };
}

/** The schema of deliveryJson (the OpenAPI document's `Delivery`). */
export const DELIVERY_JSON_SCHEMA = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    source: { type: 'string', description: 'A registered source or `_unknown`' },
    status: { type: 'integer' },
    code: { type: ['string', 'null'], description: 'The error code; null when accepted' },
    latency_ms: { type: 'number' },
    incident_id: { type: ['string', 'null'] },
    incident_number: { type: ['string', 'null'] },
    queue_id: { type: ['string', 'null'] },
    remote_address: { type: ['string', 'null'] },
  },
};
