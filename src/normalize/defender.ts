import type { IncidentDraft } from '../incidents/model.js';
import { MAX_EVENT_TYPE_LENGTH } from '../incidents/schema.js';
import { err, ok, type Result } from '../core/result.js';
import type { Source } from '../sources/source.js';
import { at, firstId, isObject, text, type JsonObject } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { extractObservables } from './observables.js';
import { parseJsonObject } from './parse.js';
import { mapSeverity } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * Microsoft alerts in the three shapes they reach us in: Graph security `alerts_v2`, Office 365
 * Management Activity API alert records, and the spec's "Defender for Office 365" event.
 * All use severity words (Graph has no `critical`), so the built-in word table is enough.
 */

type Shape = (payload: JsonObject, source: Source) => Result<IncidentDraft, string>;

const isGraphAlert = (p: JsonObject) =>
  typeof p.title === 'string' &&
  typeof p.severity === 'string' &&
  ['category', 'evidence', 'detectionSource', 'providerAlertId'].some((key) => Object.hasOwn(p, key));

const isOfficeAlert = (p: JsonObject) =>
  (typeof p.AlertId === 'string' || typeof p.Name === 'string') && Object.hasOwn(p, 'Severity') && Object.hasOwn(p, 'CreationTime');

const isDefenderEvent = (p: JsonObject) =>
  typeof p.eventType === 'string' && (Object.hasOwn(p, 'entityType') || Object.hasOwn(p, 'category')) && Object.hasOwn(p, 'id');

export const defender: FormatModule = {
  format: 'defender',

  detect: (payload) => isGraphAlert(payload) || isOfficeAlert(payload) || isDefenderEvent(payload),

  // A pinned source gets the shape its one identifying field names, and an error naming all three.
  normalize(payload, source) {
    if (!isObject(payload)) return err('defender payload is not a JSON object');
    const shape: Shape | undefined =
      typeof payload.title === 'string' ? graphAlert
      : typeof payload.Name === 'string' || typeof payload.AlertId === 'string' ? officeAlert
      : typeof payload.eventType === 'string' ? defenderEvent
      : undefined;
    if (shape === undefined) return err('defender payload lacks title (Graph alert), Name (Office 365 alert) or eventType (Defender event)');
    return shape(payload, source);
  },
};

const graphAlert: Shape = (p, source) => {
  const title = text(p.title);
  if (title === undefined) return err('defender Graph alert has an empty title');
  const { severity, vendorSeverity } = mapSeverity(p.severity, source.severityMapping);
  return ok({
    format: 'defender',
    eventType: 'alert',
    title,
    severity,
    vendorSeverity,
    incidentType: classifyIncident([title, text(p.category)], 'other'),
    occurredAt: toIsoUtc(p.firstActivityDateTime) ?? toIsoUtc(p.createdDateTime),
    externalId: firstId([p.id, p.providerAlertId]) ?? null,
    observables: extractObservables(p),
  });
};

/** Office 365 alert records carry their details as a JSON string in `Data`; `f3u` is the user. */
const officeAlert: Shape = (p, source) => {
  const alertId = firstId([p.AlertId, p.Id]);
  const title = text(p.Name) ?? text(`Office 365 alert ${alertId ?? ''}`) ?? 'Office 365 alert';
  const data = typeof p.Data === 'string' ? parseJsonObject(p.Data) : undefined;
  const details = data?.ok ? data.value : {};
  const { severity, vendorSeverity } = mapSeverity(p.Severity, source.severityMapping);
  return ok({
    format: 'defender',
    eventType: text(p.Operation, MAX_EVENT_TYPE_LENGTH) ?? 'AlertTriggered',
    title,
    severity,
    vendorSeverity,
    incidentType: classifyIncident([title, text(p.Category)], 'other'),
    occurredAt: toIsoUtc(p.CreationTime),
    externalId: alertId ?? null,
    observables: extractObservables([details, p], { users: [at(details, 'f3u')] }),
  });
};

const defenderEvent: Shape = (p, source) => {
  const eventType = text(p.eventType, MAX_EVENT_TYPE_LENGTH);
  if (eventType === undefined) return err('defender event has an empty eventType');
  const subject = text(at(p, 'data', 'subject'));
  const { severity, vendorSeverity } = mapSeverity(p.severity, source.severityMapping);
  return ok({
    format: 'defender',
    eventType,
    title: text(subject === undefined ? eventType : `${eventType}: ${subject}`) ?? eventType,
    severity,
    vendorSeverity,
    incidentType: classifyIncident([text(p.category), eventType, text(p.entityType)], 'other'),
    occurredAt: toIsoUtc(p.creationTime),
    externalId: firstId([p.id]) ?? null,
    observables: extractObservables(p),
  });
};
