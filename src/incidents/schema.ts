import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { FORMATS, INCIDENT_TYPES, OBSERVABLE_KINDS, SEVERITIES, type IncidentDraft } from './model.js';

/** Bounds of the incident contract; the normalizers cut to them, the schema enforces them. */
export const MAX_TITLE_LENGTH = 512;
export const MAX_EVENT_TYPE_LENGTH = 128;
export const MAX_VENDOR_SEVERITY_LENGTH = 128;
export const MAX_OBSERVABLES_PER_KIND = 100;
export const MAX_OBSERVABLE_LENGTH = 2048;
export const MAX_MITRE_IDS = 32;
/** Labels a filter adds: at most this many, names like Kubernetes label names, values cut to the length. */
export const MAX_LABELS = 16;
export const LABEL_NAME_PATTERN = '^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$';
export const MAX_LABEL_NAME_LENGTH = 63;
export const MAX_LABEL_VALUE_LENGTH = 256;
/** Vendor alert ids are never cut (a cut id would merge distinct events): a longer one is an invalid payload. */
const MAX_EXTERNAL_ID_LENGTH = 1024;

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
const nullableText = (maxLength: number) => ({ ...text(maxLength), nullable: true }) as const;
const observableList = { type: 'array', maxItems: MAX_OBSERVABLES_PER_KIND, items: text(MAX_OBSERVABLE_LENGTH) } as const;
const idList = (pattern: string) => ({ type: 'array', maxItems: MAX_MITRE_IDS, items: { type: 'string', pattern } }) as const;

/** The normalized incident as every format must produce it: the last guard before the store. */
const incidentDraftSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'eventType', 'title', 'severity', 'vendorSeverity', 'incidentType', 'occurredAt', 'externalId', 'observables', 'mitre'],
  properties: {
    format: { type: 'string', enum: FORMATS },
    eventType: text(MAX_EVENT_TYPE_LENGTH),
    title: text(MAX_TITLE_LENGTH),
    severity: { type: 'string', enum: SEVERITIES },
    vendorSeverity: nullableText(MAX_VENDOR_SEVERITY_LENGTH),
    incidentType: { type: 'string', enum: INCIDENT_TYPES },
    // UTC with Z only: the store and the API compare these as text.
    occurredAt: { type: 'string', nullable: true, format: 'date-time', pattern: 'Z$' },
    externalId: nullableText(MAX_EXTERNAL_ID_LENGTH),
    observables: {
      type: 'object',
      additionalProperties: false,
      required: OBSERVABLE_KINDS,
      properties: Object.fromEntries(OBSERVABLE_KINDS.map((kind) => [kind, observableList])),
    },
    mitre: {
      type: 'object',
      additionalProperties: false,
      required: ['tactics', 'techniques'],
      properties: { tactics: idList('^TA\\d{4}$'), techniques: idList('^T\\d{4}(\\.\\d{3})?$') },
    },
  },
} as const;

// Compiled once at load; allErrors off: the first problem is the message.
const ajv = new Ajv({ strict: true, allErrors: false });
addFormats.default(ajv, ['date-time']);
const validateDraft = ajv.compile<IncidentDraft>(incidentDraftSchema);

/** undefined when the draft is valid, else what is wrong with it, e.g. "/title must NOT have fewer than 1 characters". */
export function draftValidationError(draft: IncidentDraft): string | undefined {
  if (validateDraft(draft)) return undefined;
  const [first] = validateDraft.errors ?? [];
  return `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`;
}
