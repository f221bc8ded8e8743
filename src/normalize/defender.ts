import type { IncidentDraft } from '../incidents/model.js';
import { MAX_EVENT_TYPE_LENGTH } from '../incidents/schema.js';
import { err, ok, type Result } from '../core/result.js';
import type { Source } from '../sources/source.js';
import { at, firstId, isObject, text, type JsonObject } from './fields.js';
import { classifyIncident } from './incident-type.js';
import { MitreCollector, noMitre } from './mitre.js';
import { ObservableCollector, walkObservables, type FieldMap, type HashAlgorithm } from './observables.js';
import { parseJsonObject } from './parse.js';
import { mapSeverity } from './severity.js';
import { toIsoUtc } from './time.js';
import type { FormatModule } from './types.js';

/**
 * Microsoft alerts in the shapes they reach us in: Graph security alerts (the legacy v1 `alert`
 * with its `…States` lists, and `alerts_v2` with `evidence`), Office 365 Management Activity API
 * alert records, and the spec's "Defender for Office 365" event. All use severity words (Graph has
 * no `critical`), so the built-in word table is enough. Field maps: docs/normalization.md.
 */

type Shape = (payload: JsonObject, source: Source) => Result<IncidentDraft, string>;

const isGraphAlert = (p: JsonObject) =>
  typeof p.title === 'string' &&
  typeof p.severity === 'string' &&
  ['category', 'evidence', 'detectionSource', 'providerAlertId', 'vendorInformation', 'azureTenantId'].some((key) => Object.hasOwn(p, key));

const isOfficeAlert = (p: JsonObject) =>
  (typeof p.AlertId === 'string' || typeof p.Name === 'string') && Object.hasOwn(p, 'Severity') && Object.hasOwn(p, 'CreationTime');

const isDefenderEvent = (p: JsonObject) =>
  typeof p.eventType === 'string' && (Object.hasOwn(p, 'entityType') || Object.hasOwn(p, 'category')) && Object.hasOwn(p, 'id');

export const defender: FormatModule = {
  format: 'defender',
  version: 1,

  detect: (payload) => isGraphAlert(payload) || isOfficeAlert(payload) || isDefenderEvent(payload),

  // A pinned source gets the shape its one identifying field names, and an error naming all three.
  normalize(payload, source) {
    if (!isObject(payload)) return err('defender payload is not a JSON object');
    const shape: Shape | undefined =
      typeof payload.title === 'string'
        ? graphAlert
        : typeof payload.Name === 'string' || typeof payload.AlertId === 'string'
          ? officeAlert
          : typeof payload.eventType === 'string'
            ? defenderEvent
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
    occurredAt: toIsoUtc(p.firstActivityDateTime) ?? toIsoUtc(p.eventDateTime) ?? toIsoUtc(p.createdDateTime),
    externalId: firstId([p.id, p.providerAlertId]) ?? null,
    observables: graphObservables(p),
    mitre: graphMitre(p),
  });
};

const MAX_LIST_ENTRIES = 200;

/** Legacy alert lists (v1 `alert`): each entry's indicator fields. */
const HOST_STATE: FieldMap = { fqdn: 'hosts', netBiosName: 'hosts', privateIpAddress: 'ips', publicIpAddress: 'ips' };
const USER_STATE: FieldMap = { accountName: 'users', userPrincipalName: 'users', logonIp: 'ips' };
const MAIL_ROLES: ReadonlySet<unknown> = new Set(['sender', 'recipient']);
const NETWORK_CONNECTION: FieldMap = {
  destinationAddress: 'ips',
  sourceAddress: 'ips',
  natDestinationAddress: 'ips',
  natSourceAddress: 'ips',
  destinationDomain: 'domains',
  destinationUrl: 'urls',
};
const CLOUD_APP_STATE: FieldMap = { destinationServiceIp: 'ips' };
const URI_CLICK_STATE: FieldMap = { uriDomain: 'domains' };

/** `alerts_v2` evidence, by the last segment of `@odata.type`. */
const ACCOUNT: FieldMap = { accountName: 'users', userPrincipalName: 'users' };
const DEVICE: FieldMap = {
  deviceDnsName: 'hosts',
  hostName: 'hosts',
  ipInterfaces: 'ips',
  lastIpAddress: 'ips',
  lastExternalIpAddress: 'ips',
};
const FILE_HASHES: FieldMap = { sha1: 'sha1', sha256: 'sha256', md5: 'md5' };
const MAILBOX: FieldMap = { primaryAddress: 'emails', upn: 'users' };
const MESSAGE: FieldMap = { recipientEmailAddress: 'emails', senderIp: 'ips', urls: 'urls' };
const SENDER: FieldMap = { emailAddress: 'emails', domainName: 'domains' };
const IP: FieldMap = { ipAddress: 'ips' };

type EvidenceReader = (evidence: JsonObject, found: ObservableCollector) => void;

/**
 * Evidence types that carry indicators. The others (cloud applications, registry keys and values,
 * mail clusters, OAuth apps, security groups, cloud resources) name things that are no indicator
 * kind of ours; they stay in the raw body.
 */
const EVIDENCE: Readonly<Record<string, EvidenceReader>> = {
  deviceEvidence: (e, found) => {
    found.addFields(e, DEVICE);
    found.addEach(e.loggedOnUsers, ACCOUNT);
  },
  userEvidence: (e, found) => found.addFields(e.userAccount, ACCOUNT),
  ipEvidence: (e, found) => found.addFields(e, IP),
  urlEvidence: (e, found) => found.add('urls', e.url),
  fileEvidence: (e, found) => fileDetails(e.fileDetails, 'files', found),
  processEvidence: (e, found) => {
    fileDetails(e.imageFile, 'processes', found);
    found.addFields(e.userAccount, ACCOUNT);
  },
  mailboxEvidence: (e, found) => {
    found.addFields(e, MAILBOX);
    found.addFields(e.userAccount, ACCOUNT);
  },
  analyzedMessageEvidence: (e, found) => {
    found.addFields(e, MESSAGE);
    found.addFields(e.p1Sender, SENDER);
    found.addFields(e.p2Sender, SENDER);
  },
  dnsEvidence: (e, found) => {
    found.add('domains', e.domainName);
    found.addFields(e.hostIpAddress, IP);
  },
  fileHashEvidence: (e, found) => {
    const algorithm = typeof e.algorithm === 'string' ? e.algorithm.toLowerCase() : undefined;
    if (algorithm !== undefined && Object.hasOwn(FILE_HASHES, algorithm)) found.add(algorithm as HashAlgorithm, e.value);
  },
};

/** `fileDetails` of a file or a process image: its digests, and its path as a file or process. */
function fileDetails(details: unknown, kind: 'files' | 'processes', found: ObservableCollector): void {
  if (!isObject(details)) return;
  found.addFields(details, FILE_HASHES);
  found.addPath(kind, details.filePath, details.fileName);
}

/** Graph `fileHash` ({hashType, hashValue}); authenticode, PE and fuzzy hashes are no file digest. */
function legacyHash(value: unknown, found: ObservableCollector): void {
  const type = at(value, 'hashType');
  if (typeof type === 'string' && Object.hasOwn(FILE_HASHES, type.toLowerCase())) {
    found.add(type.toLowerCase() as HashAlgorithm, at(value, 'hashValue'));
  }
}

/** Indicators from the documented fields only: links, ids and descriptions are not read. */
function graphObservables(p: JsonObject) {
  const found = new ObservableCollector();
  found.addEach(p.hostStates, HOST_STATE);
  found.addEach(p.userStates, USER_STATE);
  for (const user of listOf(p.userStates)) {
    // A mail sender or recipient: the UPN is the address.
    if (MAIL_ROLES.has(at(user, 'emailRole'))) found.add('emails', at(user, 'userPrincipalName'));
  }
  for (const file of listOf(p.fileStates)) {
    found.addPath('files', at(file, 'path'), at(file, 'name'));
    legacyHash(at(file, 'fileHash'), found);
  }
  for (const process of listOf(p.processes)) {
    found.addPath('processes', at(process, 'path'), at(process, 'name'));
    legacyHash(at(process, 'fileHash'), found);
    found.add('users', at(process, 'accountName'));
  }
  found.addEach(p.networkConnections, NETWORK_CONNECTION);
  found.addEach(p.cloudAppStates, CLOUD_APP_STATE);
  found.addEach(p.uriClickSecurityStates, URI_CLICK_STATE);
  for (const evidence of listOf(p.evidence)) {
    const type = at(evidence, '@odata.type');
    const name = typeof type === 'string' ? type.slice(type.lastIndexOf('.') + 1) : '';
    if (Object.hasOwn(EVIDENCE, name)) EVIDENCE[name]!(evidence as JsonObject, found);
  }
  return found.result();
}

/** `alerts_v2` sends technique ids; both versions' `category` is often an ATT&CK tactic name. */
function graphMitre(p: JsonObject) {
  const mitre = new MitreCollector();
  mitre.tactic(p.category);
  mitre.technique(p.mitreTechniques);
  return mitre.result();
}

/** The first entries of a list (vendors send a handful; a hostile body sends millions). */
function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value.slice(0, MAX_LIST_ENTRIES) : [];
}

/** `f3u` in `Data` is the user the alert is about; the rest is read by the walk. */
function officeObservables(details: JsonObject, record: JsonObject) {
  const found = new ObservableCollector();
  found.add('users', details.f3u);
  found.walk(details);
  found.walk(record);
  return found.result();
}

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
    observables: officeObservables(details, p),
    mitre: noMitre(),
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
    observables: walkObservables(p),
    mitre: noMitre(),
  });
};
