import type { Severity } from '../incidents/model.js';
import { MAX_EVENT_TYPE_LENGTH } from '../incidents/schema.js';
import { err, ok } from '../core/result.js';
import { at, firstId, firstText, isObject, scalarText, text } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { extractObservables } from './observables.js';
import { mapSeverity, numericScale } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * CrowdStrike Falcon streaming API detections: `DetectionSummaryEvent` (ComputerName, DetectName,
 * Severity 1–5), `EppDetectionSummaryEvent` (Hostname, Name, Severity 0–100, CompositeId) and the
 * spec's sample (HostnameField). `SeverityName`, when sent, is the vendor value we map.
 */

const FIVE_POINT = numericScale([[5, 'critical'], [4, 'high'], [3, 'medium'], [2, 'low'], [1, 'info']], 1, 5);
const HUNDRED_POINT = numericScale([[90, 'critical'], [70, 'high'], [40, 'medium'], [20, 'low'], [0, 'info']], 0, 100);

const detectionName = (event: unknown) => firstText([at(event, 'DetectName'), at(event, 'Name')]);

export const crowdstrike: FormatModule = {
  format: 'crowdstrike',

  // Other Falcon stream events (audit, incident summaries) carry no detection: they go generic.
  detect: (payload) =>
    typeof at(payload, 'metadata', 'eventType') === 'string' && isObject(payload.event) && detectionName(payload.event) !== undefined,

  normalize(payload, source) {
    const event = at(payload, 'event');
    if (!isObject(event)) return err('crowdstrike payload lacks the event object');
    const title = detectionName(event);
    if (title === undefined) return err('crowdstrike payload lacks event.DetectName/Name');
    const eventType = text(at(payload, 'metadata', 'eventType'), MAX_EVENT_TYPE_LENGTH) ?? 'DetectionSummaryEvent';
    const scale = eventType === 'EppDetectionSummaryEvent' ? HUNDRED_POINT : anyScale;
    const { severity, vendorSeverity } = mapSeverity(scalarText(event.SeverityName) ?? event.Severity, source.severityMapping, scale);
    return ok({
      format: 'crowdstrike',
      eventType,
      title,
      severity,
      vendorSeverity,
      // Falcon detections are malware unless the tactic or name says otherwise.
      incidentType: classifyIncident(
        [text(event.Tactic), text(event.Technique), title, text(event.DetectDescription ?? event.Description)],
        'malware',
      ),
      occurredAt: toIsoUtc(at(payload, 'metadata', 'eventCreationTime')),
      externalId: firstId([event.DetectId, event.CompositeId]) ?? null,
      observables: extractObservables(event, {
        hosts: [event.ComputerName, event.Hostname, event.HostnameField],
        users: [event.UserName],
      }),
    });
  },
};

/** Without an event type to tell the scales apart, values above 5 can only be the 0–100 one. */
function anyScale(key: string): Severity | undefined {
  return FIVE_POINT(key) ?? HUNDRED_POINT(key);
}
