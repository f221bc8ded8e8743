/**
 * One table of source specs at and beyond the bounds, in the CRD's camelCase. The file format's
 * unit test and the API server's integration test both run it, so the two cannot disagree.
 */
import { SOURCE_SPEC_PROPERTIES, fileKeys, type SpecSchema } from '../../src/sources/source-spec.js';

export interface SpecCase {
  what: string;
  spec: Record<string, unknown>;
  accepted: boolean;
  /** For a rejection: the camelCase path of the field the message names. */
  field?: string;
}

const accept = (what: string, spec: Record<string, unknown>): SpecCase => ({ what, spec, accepted: true });
const reject = (what: string, field: string, spec: Record<string, unknown>): SpecCase => ({ what, spec, accepted: false, field });

const mapping = (entries: number) => Object.fromEntries(Array.from({ length: entries }, (_, i) => [`sev${i}`, 'low']));

export const SPEC_CASES: readonly SpecCase[] = [
  accept('no optional field', {}),
  reject('a tolerance below 30 s', 'toleranceSeconds', { toleranceSeconds: 29 }),
  accept('a tolerance of 30 s', { toleranceSeconds: 30 }),
  accept('a tolerance of 3600 s', { toleranceSeconds: 3600 }),
  reject('a tolerance above 3600 s', 'toleranceSeconds', { toleranceSeconds: 3601 }),
  reject('a fractional tolerance', 'toleranceSeconds', { toleranceSeconds: 90.5 }),
  reject('a body limit below 1 KiB', 'maxBodyBytes', { maxBodyBytes: 1023 }),
  accept('a body limit of 1 KiB', { maxBodyBytes: 1024 }),
  accept('a body limit of 10 MiB', { maxBodyBytes: 10 * 1024 * 1024 }),
  reject('a body limit above 10 MiB', 'maxBodyBytes', { maxBodyBytes: 10 * 1024 * 1024 + 1 }),
  reject('a zero rate', 'rateLimit.requestsPerSecond', { rateLimit: { requestsPerSecond: 0 } }),
  reject('a fractional rate', 'rateLimit.requestsPerSecond', { rateLimit: { requestsPerSecond: 2.5 } }),
  accept('a rate of 1/s', { rateLimit: { requestsPerSecond: 1 } }),
  accept('a rate of 10,000/s with an equal burst', { rateLimit: { requestsPerSecond: 10_000, burst: 10_000 } }),
  reject('a rate above 10,000/s', 'rateLimit.requestsPerSecond', { rateLimit: { requestsPerSecond: 10_001 } }),
  reject('a rate limit without a rate', 'rateLimit', { rateLimit: { burst: 5 } }),
  reject('a burst below the rate', 'rateLimit.burst', { rateLimit: { requestsPerSecond: 10, burst: 9 } }),
  reject('a burst above 100,000', 'rateLimit.burst', { rateLimit: { requestsPerSecond: 10, burst: 100_001 } }),
  reject('an unknown format', 'format', { format: 'xml' }),
  accept('a pinned format', { format: 'crowdstrike' }),
  reject('an unknown verification profile', 'verification', { verification: 'none' }),
  accept('the token profile', { verification: 'token' }),
  reject('an unknown processing mode', 'processing', { processing: 'later' }),
  accept('async processing', { processing: 'async' }),
  reject('auto-triage without a playbook', 'playbook', { autoTriage: true }),
  accept('auto-triage with a playbook', { autoTriage: true, playbook: 'phishing_triage' }),
  reject('an empty playbook', 'playbook', { playbook: '' }),
  reject('a 254-character playbook', 'playbook', { playbook: 'p'.repeat(254) }),
  reject('an upper-case severity key', 'severityMapping', { severityMapping: { High: 'critical' } }),
  reject('an unknown severity', 'severityMapping', { severityMapping: { sev1: 'urgent' } }),
  accept('64 severity mappings', { severityMapping: mapping(64) }),
  reject('65 severity mappings', 'severityMapping', { severityMapping: mapping(65) }),
  accept('a retention of 0 days (for good)', { retentionDays: 0 }),
  accept('a retention of 100 years', { retentionDays: 36_500 }),
  reject('a retention above 100 years', 'retentionDays', { retentionDays: 36_501 }),
  reject('a negative retention', 'retentionDays', { retentionDays: -1 }),
  reject('a fractional retention', 'retentionDays', { retentionDays: 1.5 }),
  accept('raw bodies kept shorter than incidents', { retentionDays: 90, rawBodyRetentionDays: 7 }),
  accept('raw bodies kept as long as incidents', { retentionDays: 90, rawBodyRetentionDays: 90 }),
  accept('raw bodies kept as long as incidents (0)', { retentionDays: 90, rawBodyRetentionDays: 0 }),
  accept('a raw body retention alone', { rawBodyRetentionDays: 30 }),
  accept('raw bodies for a while, incidents for good', { retentionDays: 0, rawBodyRetentionDays: 30 }),
  reject('raw bodies kept longer than incidents', 'rawBodyRetentionDays', { retentionDays: 7, rawBodyRetentionDays: 8 }),
  reject('a raw body retention above 100 years', 'rawBodyRetentionDays', { rawBodyRetentionDays: 36_501 }),
  accept('a filter of every kind', { filter: { match: 'payload.a == 1', severity: '"high"', labels: { team: '"blue"', 'on-call_2': 'payload.b' } } }),
  reject('an empty filter', 'filter', { filter: {} }),
  reject('an empty match expression', 'filter.match', { filter: { match: '' } }),
  reject('a 2049-character expression', 'filter.severity', { filter: { severity: `"${'x'.repeat(2047)}"` } }),
  reject('a label name that is no DNS label', 'filter.labels', { filter: { labels: { 'Team.Name': '"x"' } } }),
  accept('16 labels', { filter: { labels: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`l${i}`, '"x"'])) } }),
  reject('17 labels', 'filter.labels', { filter: { labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, '"x"'])) } }),
  accept('a suspended source', { suspend: true }),
  reject('a non-boolean suspend', 'suspend', { suspend: 'yes' }),
];

/** A camelCase spec in webhook_config.yaml's words: the one key mapping, `suspend` as `enabled`. */
export function inFileWords(spec: Record<string, unknown>, properties: Readonly<Record<string, SpecSchema>> = SOURCE_SPEC_PROPERTIES): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(spec).map(([key, value]) => {
      if (key === 'suspend' && typeof value === 'boolean') return [fileKeys(key), !value];
      const nested = properties[key]?.properties;
      // Only declared fields are renamed: severityMapping's keys are vendor values.
      return [fileKeys(key), nested && value !== null && typeof value === 'object' ? inFileWords(value as Record<string, unknown>, nested) : value];
    }),
  );
}
