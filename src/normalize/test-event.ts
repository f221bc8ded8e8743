import type { Format } from '../incidents/model.js';

/**
 * The top-level key that marks a delivery as a test event (`POST /api/webhooks/:source/test`,
 * `tw-cli webhook test`). It is inside the signed body, so only a sender holding the secret can
 * set it, and all it does is keep the incident out of triage and out of default listings.
 */
const TEST_EVENT_KEY = 'tw_test_event';

export function isTestEvent(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && (payload as Record<string, unknown>)[TEST_EVENT_KEY] === true;
}

const MESSAGE = 'Test event sent by tw-webhooks (webhook test)';

/**
 * A small, valid alert in the shape of `format` (the source's pinned format, else generic), so a
 * test of a source pinned to a vendor passes through that vendor's normalizer like a real alert.
 */
export function testEventPayload(format: Format | undefined, source: string, id: string, now: Date): Record<string, unknown> {
  const marker = { [TEST_EVENT_KEY]: true };
  switch (format) {
    case 'defender':
      return {
        ...marker,
        eventType: 'TestAlert',
        id,
        creationTime: now.toISOString(),
        severity: 'informational',
        category: 'Test',
        entityType: 'Test',
        title: MESSAGE,
      };
    case 'crowdstrike':
      return {
        ...marker,
        metadata: { eventType: 'DetectionSummaryEvent', eventCreationTime: now.getTime() },
        event: { DetectId: id, Severity: 1, SeverityName: 'Informational', DetectName: MESSAGE, DetectDescription: MESSAGE },
      };
    case 'splunk':
      return {
        ...marker,
        sid: id,
        search_name: MESSAGE,
        result: { message: MESSAGE, urgency: 'informational' },
        trigger_time: Math.floor(now.getTime() / 1000),
      };
    default:
      return {
        ...marker,
        event_type: 'test',
        timestamp: now.toISOString(),
        source,
        data: { alert_id: id, severity: 'info', details: { message: MESSAGE } },
      };
  }
}
