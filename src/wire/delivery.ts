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
    queue_id: record.queueId,
    remote_address: record.remoteAddress,
  };
}
