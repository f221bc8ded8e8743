import type { Format, Incident, IncidentStatus, Observables, Severity } from '../incidents/model.js';
import { TACTIC_NAMES } from '../normalize/mitre.js';
import { triageJson } from './incident.js';

/**
 * An incident as an OCSF Detection Finding (class 2004), the mapping table of docs/normalization.md.
 * OCSF 1.7.0: the newest version the validator the tests use (pydantic-ocsf) models completely,
 * and the first with a File Path observable type.
 */
export const OCSF_VERSION = '1.7.0';
export const OCSF_MEDIA_TYPE = 'application/vnd.ocsf+json';

const DETECTION_FINDING = { class_uid: 2004, class_name: 'Detection Finding', category_uid: 2, category_name: 'Findings' } as const;
const CREATE = { activity_id: 1, activity_name: 'Create', type_uid: 200401, type_name: 'Detection Finding: Create' } as const;

const SEVERITY: Readonly<Record<Severity, { severity_id: number; severity: string }>> = {
  critical: { severity_id: 5, severity: 'Critical' },
  high: { severity_id: 4, severity: 'High' },
  medium: { severity_id: 3, severity: 'Medium' },
  low: { severity_id: 2, severity: 'Low' },
  info: { severity_id: 1, severity: 'Informational' },
};

/** Acknowledged (someone is on it) is OCSF's In Progress. */
const STATUS: Readonly<Record<IncidentStatus, { status_id: number; status: string }>> = {
  new: { status_id: 1, status: 'New' },
  acknowledged: { status_id: 2, status: 'In Progress' },
  resolved: { status_id: 4, status: 'Resolved' },
};

/** The product that reported the alert; a generic event's reporter is known only as its source. */
const PRODUCTS: Readonly<Record<Exclude<Format, 'generic'>, { name: string; vendor_name: string }>> = {
  defender: { name: 'Microsoft Defender', vendor_name: 'Microsoft' },
  crowdstrike: { name: 'Falcon', vendor_name: 'CrowdStrike' },
  splunk: { name: 'Splunk', vendor_name: 'Splunk' },
};

/** Observable type ids of OCSF 1.7.0. */
const OBSERVABLE_TYPE = { hostname: 1, ip: 2, userName: 4, email: 5, url: 6, fileName: 7, hash: 8, processName: 9, filePath: 45 } as const;
/** The digests by algorithm, kept together in one evidence: nothing says which file each belongs to. */
const HASH_KINDS = ['md5', 'sha1', 'sha256'] as const;

interface Evidence {
  evidence: Record<string, unknown>;
  /** Where the value sits in the evidence, e.g. `device.hostname`. */
  attribute: string;
  typeId: number;
}

/** One evidence per observable value, in the object OCSF has for it. IPs become devices of unknown type at that address. */
const EVIDENCE_OF: Readonly<Record<Exclude<keyof Observables, 'hashes' | 'md5' | 'sha1' | 'sha256'>, (value: string) => Evidence>> = {
  hosts: (hostname) => ({ evidence: { device: { hostname, type_id: 0 } }, attribute: 'device.hostname', typeId: OBSERVABLE_TYPE.hostname }),
  ips: (ip) => ({ evidence: { device: { ip, type_id: 0 } }, attribute: 'device.ip', typeId: OBSERVABLE_TYPE.ip }),
  users: (name) => ({ evidence: { user: { name } }, attribute: 'user.name', typeId: OBSERVABLE_TYPE.userName }),
  emails: (email_addr) => ({ evidence: { user: { email_addr } }, attribute: 'user.email_addr', typeId: OBSERVABLE_TYPE.email }),
  urls: (url_string) => ({ evidence: { url: { url_string } }, attribute: 'url.url_string', typeId: OBSERVABLE_TYPE.url }),
  domains: (hostname) => ({ evidence: { url: { hostname } }, attribute: 'url.hostname', typeId: OBSERVABLE_TYPE.hostname }),
  processes: (image) =>
    isPath(image)
      ? { evidence: { process: { name: baseName(image), path: image } }, attribute: 'process.path', typeId: OBSERVABLE_TYPE.filePath }
      : { evidence: { process: { name: image } }, attribute: 'process.name', typeId: OBSERVABLE_TYPE.processName },
  files: (file) =>
    isPath(file)
      ? { evidence: { file: { name: baseName(file), path: file, type_id: 0 } }, attribute: 'file.path', typeId: OBSERVABLE_TYPE.filePath }
      : { evidence: { file: { name: file, type_id: 0 } }, attribute: 'file.name', typeId: OBSERVABLE_TYPE.fileName },
};

/** The incident as a Detection Finding, `raw_data` included. */
export function ocsfFinding(incident: Incident): Record<string, unknown> {
  return Object.assign(ocsfFindingWithoutRaw(incident), { raw_data: incident.raw });
}

/** Everything but `raw_data`, which a caller may write apart; `raw_data_size` is its size in bytes. */
export function ocsfFindingWithoutRaw(incident: Incident): Record<string, unknown> {
  const { evidences, observables } = evidencesAndObservables(incident.observables);
  const occurredMs = incident.occurredAt === null ? undefined : Date.parse(incident.occurredAt);
  const receivedMs = Date.parse(incident.receivedAt);
  const attacks = ocsfAttacks(incident.mitre.tactics, incident.mitre.techniques);
  return {
    ...DETECTION_FINDING,
    ...CREATE,
    time: occurredMs ?? receivedMs,
    ...SEVERITY[incident.severity],
    ...STATUS[incident.status],
    is_alert: true,
    message: incident.title,
    metadata: {
      version: OCSF_VERSION,
      product: incident.format === 'generic' ? { name: incident.source } : PRODUCTS[incident.format],
      uid: incident.id,
      ...(incident.externalId !== null && { original_event_uid: incident.externalId }),
      event_code: incident.eventType,
      log_name: incident.source,
      log_provider: 'tw-webhooks',
      logged_time: receivedMs,
      ...(Object.keys(incident.labels).length > 0 && { tags: Object.entries(incident.labels).map(([name, value]) => ({ name, value })) }),
    },
    finding_info: {
      uid: incident.id,
      uid_alt: incident.number,
      title: incident.title,
      types: [incident.incidentType],
      ...(occurredMs !== undefined && { created_time: occurredMs }),
      ...(attacks.length > 0 && { attacks }),
    },
    ...(observables.length > 0 && { observables }),
    ...(evidences.length > 0 && { evidences }),
    // Absent once retention dropped the raw body, like raw_data.
    ...(incident.raw !== null && { raw_data_size: Buffer.byteLength(incident.raw, 'utf8') }),
    unmapped: {
      source: incident.source,
      format: incident.format,
      vendor_severity: incident.vendorSeverity,
      incident_type: incident.incidentType,
      status: incident.status,
      dedupe_key: incident.dedupeKey,
      received_at: incident.receivedAt,
      triage: triageJson(incident.triage),
    },
  };
}

/**
 * Attacks from ATT&CK ids. Vendors list tactics and techniques without saying which goes with
 * which, so a technique carries the tactic only when there is exactly one; otherwise each id is an
 * attack of its own. A sub-technique (`T1059.001`) is given with its technique (`T1059`).
 */
export function ocsfAttacks(tactics: readonly string[], techniques: readonly string[]): Record<string, unknown>[] {
  const tactic = (id: string) => ({ uid: id, ...(TACTIC_NAMES[id] !== undefined && { name: TACTIC_NAMES[id] }), src_url: attackUrl('tactics', id) });
  const paired = tactics.length === 1 ? { tactic: tactic(tactics[0]!) } : undefined;
  const byTechnique = techniques.map((id) => {
    const [parent, sub] = id.split('.');
    return {
      technique: { uid: parent!, src_url: attackUrl('techniques', parent!) },
      ...(sub !== undefined && { sub_technique: { uid: id, src_url: attackUrl('techniques', `${parent}/${sub}`) } }),
      ...paired,
    };
  });
  const alone = paired && techniques.length > 0 ? [] : tactics.map((id) => ({ tactic: tactic(id) }));
  return [...byTechnique, ...alone];
}

const attackUrl = (kind: 'tactics' | 'techniques', path: string) => `https://attack.mitre.org/${kind}/${path}/`;

/** Evidences of the typed observables and one of the hashes; each observable names where its value sits (`evidences[3].device.hostname`). */
function evidencesAndObservables(lists: Observables): { evidences: Record<string, unknown>[]; observables: Record<string, unknown>[] } {
  const evidences: Record<string, unknown>[] = [];
  const observables: Record<string, unknown>[] = [];
  for (const [kind, evidenceOf] of Object.entries(EVIDENCE_OF) as [keyof typeof EVIDENCE_OF, (value: string) => Evidence][]) {
    for (const value of lists[kind]) {
      const { evidence, attribute, typeId } = evidenceOf(value);
      observables.push({ name: `evidences[${evidences.length}].${attribute}`, type_id: typeId, value });
      evidences.push(evidence);
    }
  }
  const hashKinds = HASH_KINDS.filter((kind) => lists[kind].length > 0);
  if (hashKinds.length > 0) {
    const at = evidences.length;
    const data: Record<string, string[]> = {};
    for (const kind of hashKinds) {
      data[kind] = lists[kind];
      lists[kind].forEach((value, index) => observables.push({ name: `evidences[${at}].data.${kind}[${index}]`, type_id: OBSERVABLE_TYPE.hash, value }));
    }
    evidences.push({ name: 'hashes', data });
  }
  return { evidences, observables };
}

/** Windows or POSIX paths: anything with a separator. */
function isPath(value: string): boolean {
  return value.includes('/') || value.includes('\\');
}

function baseName(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return name === '' ? path : name;
}
