import type { IncidentType } from '../incidents/model.js';
import { err, ok } from '../core/result.js';
import { at, firstId, firstText, isObject, scalarText, text, type JsonObject } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { MitreCollector } from './mitre.js';
import { ObservableCollector } from './observables.js';
import { mapSeverity, numericScale } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * Splunk's webhook alert action: `sid`, `search_name` (null in Splunk's own example), `app`,
 * `owner`, `results_link` and the first result row with string (or, multivalue, list) values, no
 * `trigger_time`; the spec's sample adds `trigger_time`. Enterprise Security notables arrive as that
 * row: `rule_title`/`rule_name`, `urgency`, `severity`, `security_domain`, `annotations.mitre_attack…`.
 * Field map and tables: docs/normalization.md.
 */

/** savedsearches.conf `alert.severity`: 1 debug, 2 info, 3 warn, 4 error, 5 severe, 6 fatal. */
const ALERT_SEVERITY = numericScale(
  [
    [6, 'critical'],
    [5, 'high'],
    [4, 'medium'],
    [3, 'low'],
    [1, 'info'],
  ],
  1,
  6,
);

/** Windows logon failure, logon, Kerberos pre-auth failure, NTLM validation, lockout. */
const AUTHENTICATION_EVENT_CODES = new Set(['4624', '4625', '4740', '4771', '4776']);

/** ES security domains → our type, when the rule's title names none. */
const SECURITY_DOMAINS: Readonly<Record<string, IncidentType>> = {
  access: 'authentication',
  endpoint: 'malware',
  network: 'intrusion',
  threat: 'intrusion',
  identity: 'policy_violation',
  audit: 'policy_violation',
};

/** ES annotation fields (flattened in the row, or nested under `annotations`). */
const TECHNIQUE_FIELDS = ['annotations.mitre_attack', 'annotations.mitre_attack.mitre_technique_id'];
const TACTIC_FIELDS = ['annotations.mitre_attack.mitre_tactic_id', 'annotations.mitre_attack.mitre_tactic'];

/** A row value: Splunk sends multivalue fields as lists; the first value stands for the field. */
const single = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

export const splunk: FormatModule = {
  format: 'splunk',
  version: 1,

  // `search_name` may be null (Splunk's documented example), so the envelope's other keys decide.
  detect: (payload) =>
    (typeof payload.sid === 'string' && (isObject(payload.result) || typeof payload.results_link === 'string')) ||
    (typeof payload.search_name === 'string' && (isObject(payload.result) || payload.sid !== undefined || payload.results_link !== undefined)),

  normalize(payload, source) {
    const row = at(payload, 'result');
    const result: JsonObject = isObject(row) ? row : {};
    const sid = text(at(payload, 'sid'));
    const title =
      firstText([single(result.rule_title), single(result.rule_name), at(payload, 'search_name')]) ??
      (sid === undefined ? undefined : text(`Splunk alert ${sid}`));
    if (title === undefined) return err('splunk payload lacks search_name');
    const eventCode = scalarText(single(result.EventCode), 16);
    // ES urgency is severity weighed by the asset's priority: what Incident Review sorts by.
    const { severity, vendorSeverity } = mapSeverity(single(result.urgency) ?? single(result.severity), source.severityMapping, ALERT_SEVERITY);
    const domain = text(single(result.security_domain), 32)?.toLowerCase();
    const domainType = domain !== undefined && Object.hasOwn(SECURITY_DOMAINS, domain) ? SECURITY_DOMAINS[domain]! : 'other';
    return ok({
      format: 'splunk',
      eventType: domain === undefined ? 'alert' : 'notable',
      title,
      severity,
      vendorSeverity,
      incidentType:
        eventCode !== undefined && AUTHENTICATION_EVENT_CODES.has(eventCode)
          ? 'authentication'
          : classifyIncident([title, text(single(result.signature))], domainType),
      occurredAt: toIsoUtc(at(payload, 'trigger_time') ?? single(result._time)),
      externalId: externalId(single(result.event_id), at(payload, 'sid'), row),
      observables: rowObservables(result),
      mitre: rowMitre(result),
    });
  },
};

/**
 * A notable's event_id is unique per notable. A sid is not an alert's id: it is shared by every row
 * of one search run, and an alert that triggers "for each result" posts each row with the same sid.
 * So a plain alert with a row has no external id, and its dedupe key is the body's hash: distinct
 * rows stay distinct events, a resent row stays one.
 */
function externalId(eventId: unknown, sid: unknown, row: unknown): string | null {
  return firstId([eventId]) ?? (row === undefined ? (firstId([sid]) ?? null) : null);
}

/** The row's fields by CIM name (src, dest, user, file_hash, url, …); its free text for ips, emails, urls. */
function rowObservables(result: JsonObject) {
  const found = new ObservableCollector();
  found.walk(result);
  return found.result();
}

function rowMitre(result: JsonObject) {
  const mitre = new MitreCollector();
  for (const field of TECHNIQUE_FIELDS) mitre.technique(at(result, field));
  for (const field of TACTIC_FIELDS) mitre.tactic(at(result, field));
  const nested = at(result, 'annotations', 'mitre_attack');
  if (isObject(nested)) {
    mitre.technique(nested.mitre_technique_id);
    mitre.tactic(nested.mitre_tactic_id);
    mitre.tactic(nested.mitre_tactic);
  } else {
    mitre.technique(nested);
  }
  return mitre.result();
}
