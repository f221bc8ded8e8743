import type { IncidentType } from '../incidents/model.js';
import { MAX_EVENT_TYPE_LENGTH } from '../incidents/schema.js';
import { err, ok } from '../core/result.js';
import { at, firstId, firstText, isObject, scalarText, text, type JsonObject } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { MitreCollector } from './mitre.js';
import { ObservableCollector, type FieldKind, type FieldMap } from './observables.js';
import { mapSeverity, numericScale, type SeverityTable } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * CrowdStrike Falcon Event Streams detection summaries (field map: docs/normalization.md):
 * legacy `DetectionSummaryEvent` (ComputerName, DetectName, Severity 1–5), `EppDetectionSummaryEvent`
 * (Hostname, Name, Severity 0–100, CompositeId), `IdpDetectionSummaryEvent` (identity protection:
 * source and target endpoints and accounts), `MobileDetectionSummaryEvent`, and the spec's sample
 * (HostnameField). `SeverityName`, when sent, is the vendor value we map.
 */

const FIVE_POINT = numericScale(
  [
    [5, 'critical'],
    [4, 'high'],
    [3, 'medium'],
    [2, 'low'],
    [1, 'info'],
  ],
  1,
  5,
);
const HUNDRED_POINT = numericScale(
  [
    [90, 'critical'],
    [70, 'high'],
    [40, 'medium'],
    [20, 'low'],
    [0, 'info'],
  ],
  0,
  100,
);

/** Without an event type to tell the scales apart, values above 5 can only be the 0–100 one. */
const anyScale: SeverityTable = (key) => FIVE_POINT(key) ?? HUNDRED_POINT(key);

/** Per event type: the severity scale, and the incident type when tactic and name say nothing. */
const EVENT_TYPES: Readonly<Record<string, { scale: SeverityTable; fallback: IncidentType }>> = {
  DetectionSummaryEvent: { scale: anyScale, fallback: 'malware' },
  EppDetectionSummaryEvent: { scale: HUNDRED_POINT, fallback: 'malware' },
  IdpDetectionSummaryEvent: { scale: HUNDRED_POINT, fallback: 'authentication' },
  MobileDetectionSummaryEvent: { scale: HUNDRED_POINT, fallback: 'malware' },
};
const OTHER_EVENT_TYPE = { scale: anyScale, fallback: 'malware' } as const;

/** `event` fields that carry indicators, in every detection summary that has them. */
const EVENT_FIELDS: FieldMap = {
  ComputerName: 'hosts',
  Hostname: 'hosts',
  HostnameField: 'hosts',
  SourceEndpointHostName: 'hosts',
  TargetEndpointHostName: 'hosts',
  UserName: 'users',
  SourceAccountName: 'users',
  SourceAccountUpn: 'users',
  TargetAccountName: 'users',
  TargetAccountUpn: 'users',
  LocalIP: 'ips',
  LocalIPv6: 'ips',
  ExternalIP: 'ips',
  SourceEndpointIpAddress: 'ips',
  TargetEndpointIpAddress: 'ips',
  SHA256String: 'sha256',
  SHA1String: 'sha1',
  MD5String: 'md5',
};
const NETWORK_FIELDS: FieldMap = { LocalAddress: 'ips', RemoteAddress: 'ips', Url: 'urls' };
const DNS_FIELDS: FieldMap = { DomainName: 'domains' };
const MOBILE_APP_FIELDS: FieldMap = { ImageFileName: 'files', SHA256HashData: 'sha256' };

/** `IOCType` → what its `IOCValue` is; other types (e.g. `command_line`) are no observable kind. */
const IOC_TYPES: Readonly<Record<string, FieldKind>> = {
  hash_sha256: 'sha256',
  hash_sha1: 'sha1',
  hash_md5: 'md5',
  domain: 'domains',
  ipv4: 'ips',
  ipv6: 'ips',
  url: 'urls',
  filename: 'files',
};

const detectionName = (event: unknown) => firstText([at(event, 'DetectName'), at(event, 'Name')]);

export const crowdstrike: FormatModule = {
  format: 'crowdstrike',
  version: 1,

  // Other Falcon stream events (audit, incident summaries) carry no detection: they go generic.
  detect: (payload) => typeof at(payload, 'metadata', 'eventType') === 'string' && isObject(payload.event) && detectionName(payload.event) !== undefined,

  normalize(payload, source) {
    const event = at(payload, 'event');
    if (!isObject(event)) return err('crowdstrike payload lacks the event object');
    const title = detectionName(event);
    if (title === undefined) return err('crowdstrike payload lacks event.DetectName/Name');
    const eventType = text(at(payload, 'metadata', 'eventType'), MAX_EVENT_TYPE_LENGTH) ?? 'DetectionSummaryEvent';
    const family = Object.hasOwn(EVENT_TYPES, eventType) ? EVENT_TYPES[eventType]! : OTHER_EVENT_TYPE;
    const { severity, vendorSeverity } = mapSeverity(scalarText(event.SeverityName) ?? event.Severity, source.severityMapping, family.scale);
    return ok({
      format: 'crowdstrike',
      eventType,
      title,
      severity,
      vendorSeverity,
      incidentType: classifyIncident([text(event.Tactic), text(event.Technique), title, text(event.DetectDescription ?? event.Description)], family.fallback),
      occurredAt: toIsoUtc(at(payload, 'metadata', 'eventCreationTime')),
      externalId: firstId([event.DetectId, event.CompositeId, event.MobileDetectionId]) ?? null,
      observables: falconObservables(event),
      mitre: falconMitre(event),
    });
  },
};

function falconObservables(event: JsonObject) {
  const found = new ObservableCollector();
  found.addFields(event, EVENT_FIELDS);
  // FileName/FilePath name the image of the process the detection is about.
  found.addPath('files', event.FilePath, event.FileName);
  if (event.CommandLine !== undefined || event.ProcessId !== undefined) found.addPath('processes', event.FilePath, event.FileName);
  const iocType = text(event.IOCType, 32)?.toLowerCase();
  if (iocType !== undefined && Object.hasOwn(IOC_TYPES, iocType)) found.add(IOC_TYPES[iocType]!, event.IOCValue);
  found.addEach(event.NetworkAccesses, NETWORK_FIELDS);
  found.addEach(event.MobileNetworkConnections, NETWORK_FIELDS);
  found.addEach(event.DnsRequests, DNS_FIELDS);
  found.addEach(event.MobileDnsRequests, DNS_FIELDS);
  found.addEach(event.MobileAppsDetails, MOBILE_APP_FIELDS);
  for (const list of [event.DocumentsAccessed, event.ExecutablesWritten, event.FilesWritten]) {
    if (Array.isArray(list)) for (const file of list.slice(0, 50)) found.addPath('files', at(file, 'FilePath'), at(file, 'FileName'));
  }
  return found.result();
}

function falconMitre(event: JsonObject) {
  const mitre = new MitreCollector();
  mitre.tactic(event.TacticId);
  mitre.technique(event.TechniqueId);
  // The name when no id came with it (legacy DetectionSummaryEvent sends only names).
  if (event.TacticId === undefined) mitre.tactic(event.Tactic);
  return mitre.result();
}
