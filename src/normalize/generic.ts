import { MAX_EVENT_TYPE_LENGTH } from '../incidents/schema.js';
import { ok } from '../core/result.js';
import { at, firstId, firstText, text } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { noMitre } from './mitre.js';
import { walkObservables } from './observables.js';
import { mapSeverity } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * The spec's generic envelope (`event_type`, `timestamp`, `source`, `data.alert_id`,
 * `data.severity`, `data.details`) and the fallback for every other object: it never fails,
 * so a sender with an unknown shape still produces an incident someone can look at.
 */
export const generic: FormatModule = {
  format: 'generic',
  version: 1,

  detect: () => true,

  normalize(payload, source) {
    const data = at(payload, 'data');
    const eventType = firstText([at(payload, 'event_type'), at(payload, 'eventType'), at(payload, 'type')], MAX_EVENT_TYPE_LENGTH);
    const title =
      firstText([at(data, 'title'), at(payload, 'title'), at(data, 'name'), at(payload, 'name'), at(payload, 'summary')]) ??
      eventType ??
      `Webhook event from ${source.name}`;
    const { severity, vendorSeverity } = mapSeverity(at(data, 'severity') ?? at(payload, 'severity'), source.severityMapping);
    return ok({
      format: 'generic',
      eventType: eventType ?? 'unknown',
      title,
      severity,
      vendorSeverity,
      incidentType: classifyIncident([text(at(data, 'category')), text(at(payload, 'category')), title], 'other'),
      occurredAt: toIsoUtc(at(payload, 'timestamp') ?? at(data, 'timestamp')),
      externalId: firstId([at(data, 'alert_id'), at(payload, 'alert_id'), at(payload, 'id')]) ?? null,
      observables: walkObservables(payload),
      mitre: noMitre(),
    });
  },
};
