import { err, ok } from '../core/result.js';
import { at, firstId, isObject, scalarText, text } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { extractObservables } from './observables.js';
import { mapSeverity, numericScale } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * Splunk's webhook alert action: `sid`, `search_name`, `app`, `owner`, `results_link` and the
 * first result row with string values, no `trigger_time`; the spec's sample adds `trigger_time`.
 * Severity comes from the row (`severity`, or Splunk ES `urgency`), since the action sends none.
 */

/** savedsearches.conf `alert.severity`: 1 debug, 2 info, 3 warn, 4 error, 5 severe, 6 fatal. */
const ALERT_SEVERITY = numericScale([[6, 'critical'], [5, 'high'], [4, 'medium'], [3, 'low'], [1, 'info']], 1, 6);

/** Windows logon failure, logon, Kerberos pre-auth failure, NTLM validation, lockout. */
const AUTHENTICATION_EVENT_CODES = new Set(['4624', '4625', '4740', '4771', '4776']);

export const splunk: FormatModule = {
  format: 'splunk',

  detect: (payload) =>
    typeof at(payload, 'search_name') === 'string' &&
    (isObject(at(payload, 'result')) || at(payload, 'sid') !== undefined || at(payload, 'results_link') !== undefined),

  normalize(payload, source) {
    const title = text(at(payload, 'search_name'));
    if (title === undefined) return err('splunk payload lacks search_name');
    const row = at(payload, 'result');
    const result = isObject(row) ? row : {};
    const eventCode = scalarText(result.EventCode, 16);
    const { severity, vendorSeverity } = mapSeverity(result.severity ?? result.urgency, source.severityMapping, ALERT_SEVERITY);
    return ok({
      format: 'splunk',
      eventType: 'alert',
      title,
      severity,
      vendorSeverity,
      incidentType:
        eventCode !== undefined && AUTHENTICATION_EVENT_CODES.has(eventCode)
          ? 'authentication'
          : classifyIncident([title, text(result.signature)], 'other'),
      occurredAt: toIsoUtc(at(payload, 'trigger_time') ?? result._time),
      externalId: firstId([at(payload, 'sid')]) ?? null,
      observables: extractObservables(result),
    });
  },
};
