/** The incident: what every verified, parsed webhook becomes. Pure data, no behaviour. */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FORMATS = ['generic', 'defender', 'crowdstrike', 'splunk'] as const;
export type Format = (typeof FORMATS)[number];

export const INCIDENT_TYPES = [
  'phishing',
  'malware',
  'authentication',
  'intrusion',
  'data_exfiltration',
  'policy_violation',
  'vulnerability',
  'suspicious_activity',
  'other',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

/**
 * Indicators the alert is about, one list per kind, de-duplicated, in the order found
 * (docs/normalization.md). `hashes` holds every digest; `md5`/`sha1`/`sha256` hold the same
 * digests by algorithm, so readers of the original six lists keep working.
 */
export interface Observables {
  hosts: string[];
  users: string[];
  emails: string[];
  ips: string[];
  hashes: string[];
  urls: string[];
  domains: string[];
  /** Process image paths or names. */
  processes: string[];
  /** File paths, or names when the vendor gives no path. */
  files: string[];
  md5: string[];
  sha1: string[];
  sha256: string[];
}

export const OBSERVABLE_KINDS = [
  'hosts',
  'users',
  'emails',
  'ips',
  'hashes',
  'urls',
  'domains',
  'processes',
  'files',
  'md5',
  'sha1',
  'sha256',
] as const satisfies readonly (keyof Observables)[];

/** MITRE ATT&CK ids the vendor attributes the alert to, e.g. `TA0002` and `T1059.001`. */
export interface MitreAttack {
  tactics: string[];
  techniques: string[];
}

/** What a normalizer derives from a payload; no ids, no clock, no storage concerns. */
export interface IncidentDraft {
  format: Format;
  eventType: string;
  title: string;
  severity: Severity;
  /** The vendor's own value as text (e.g. "4", "High", "medium"), null when absent. */
  vendorSeverity: string | null;
  incidentType: IncidentType;
  /** ISO-8601 UTC, null when the payload carries no usable time. */
  occurredAt: string | null;
  /** The vendor's alert/detection id, null when absent. */
  externalId: string | null;
  observables: Observables;
  mitre: MitreAttack;
}

export type TriageState = 'none' | 'pending' | 'dispatched' | 'failed';

export interface TriageInfo {
  state: TriageState;
  playbook: string | null;
  attempts: number;
  /** Last delivery error, or the reason a request failed for good. */
  lastError: string | null;
  /** ISO time of the next delivery attempt while pending. */
  nextAttemptAt: string | null;
  dispatchedAt: string | null;
}

/** Where people are with an incident: new, acknowledged (someone is on it), resolved. */
export const INCIDENT_STATUSES = ['new', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Who moved an incident to a status, when, and why. */
export interface StatusChange {
  /** ISO time. */
  at: string;
  /** The API key's name (`bootstrap` for a TW_API_TOKEN key). */
  by: string;
  keyId: string;
  note: string | null;
}

/** Labels a source's filter adds (docs/filters.md): name → value, bounded by the incident schema. */
export type Labels = Record<string, string>;

/**
 * A stored incident. `raw` is the request body exactly as received (validated UTF-8), or null once
 * retention dropped it (raw bodies may be kept shorter than incidents).
 */
export interface Incident extends IncidentDraft {
  id: string;
  number: string;
  source: string;
  receivedAt: string;
  dedupeKey: string;
  status: IncidentStatus;
  /** Made by a test event (`webhook test`): never triaged, left out of listings unless asked for. */
  test: boolean;
  /** Set when the incident was acknowledged; kept after it is resolved. */
  acknowledged: StatusChange | null;
  resolved: StatusChange | null;
  triage: TriageInfo;
  labels: Labels;
  raw: string | null;
  /** The version of its format's normalizer that built its fields (see FormatModule.version); 0: before versions were recorded. */
  normalizerVersion: number;
}

/** An incident as lists carry it: everything but the raw body, which only the single read returns. */
export type IncidentSummary = Omit<Incident, 'raw'>;

/** What a delivery adds to its normalized draft: who sent it, when, how it dedupes, and the triage it asks for. */
export interface DeliveryFacts {
  id: string;
  source: string;
  receivedAt: string;
  dedupeKey: string;
  raw: string;
  labels: Labels;
  /** Playbook to enqueue for auto-triage in the same write (outbox), or null. */
  triagePlaybook: string | null;
  /** A test event's incident (see normalize/test-event.ts). */
  test: boolean;
}

/**
 * An incident built whole by the domain, all but its number: the store allocates that inside its
 * insert (gap-free, exactly once) and encodes everything else as given.
 */
export type NewIncident = Omit<Incident, 'number'>;
