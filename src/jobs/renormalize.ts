import { isDeepStrictEqual } from 'node:util';
import type { Format, Incident, IncidentDraft } from '../incidents/model.js';
import type { IncidentRange, IncidentStore, NormalizedUpdate } from '../incidents/ports.js';
import { DRAFT_FIELDS } from '../incidents/incident.js';
import { decodeCursor, encodeCursor } from '../incidents/cursor.js';
import type { Source, SourceLookup } from '../sources/source.js';
import { fileKey } from '../sources/source-spec.js';
import { parseJsonObject } from '../normalize/parse.js';
import { normalize, normalizerVersion } from '../normalize/index.js';
import { applyFilter } from '../filters/filter.js';
import type { JobHandler } from './job.js';

/*
 * Re-normalization (docs/operations.md, "Re-normalization"): today's normalizers run again over
 * stored raw bodies, with each source's settings of today (its severity_mapping, its pinned
 * format), so a mapping fix reaches the incidents it came too late for. Only the normalized
 * fields and the normalizer version are rewritten; ids, numbers, received times, dedupe keys, raw
 * bodies and status stay. It goes through the range oldest first in bounded batches, its cursor
 * saved after each, so a run cut short (a crash, a stop) continues where it was.
 */

/** What `POST /api/store/renormalize` asks for, in the API's words. */
export interface RenormalizeParams {
  source?: string;
  format?: Format;
  since?: string;
  until?: string;
  /** Count what would change, and which fields, without writing anything. */
  dry_run: boolean;
  /** Queue the incidents that changed for triage again. */
  requeue_triage?: boolean;
}

/** What the job found, in the API's words; final once done (a type, not an interface: it is the job's JSON report as it is). */
type RenormalizeReport = {
  dry_run: boolean;
  /** Incidents of the range looked at. */
  examined: number;
  /** Whose fields differ from what today's normalizer makes (rewritten unless a dry run). */
  changed: number;
  unchanged: number;
  /** Not re-normalized, by why: another format than asked, its source no longer served, its raw body dropped by retention, or today's normalizer refusing it. */
  skipped: { other_format: number; source_not_served: number; raw_body_dropped: number; not_normalizable: number };
  /** Changed incidents queued for triage again. */
  requeued: number;
  /** How many incidents each field changed in, by the API's field names. */
  fields: Record<string, number>;
  /** The first changed incidents, with their changed fields. */
  samples: { incident_number: string; fields: string[] }[];
  /** The first incidents today's normalizer refused, with why. */
  errors: { incident_number: string; error: string }[];
};

const MAX_SAMPLES = 10;
const MAX_ERRORS = 5;

export type Renormalized =
  | { outcome: 'skipped'; reason: keyof RenormalizeReport['skipped']; error?: string }
  | { outcome: 'unchanged' }
  | { outcome: 'changed'; fields: string[]; draft: IncidentDraft; normalizerVersion: number };

/** What today's normalizer makes of a stored incident, and which of its fields (API names) that changes. Pure. */
export function renormalized(incident: Incident, source: Source | undefined, format: Format | undefined): Renormalized {
  if (format !== undefined && incident.format !== format) return { outcome: 'skipped', reason: 'other_format' };
  if (!source) return { outcome: 'skipped', reason: 'source_not_served' };
  if (incident.raw === null) return { outcome: 'skipped', reason: 'raw_body_dropped' };
  const payload = parseJsonObject(incident.raw);
  const draft = payload.ok ? normalize(payload.value, source) : payload;
  if (!draft.ok) return { outcome: 'skipped', reason: 'not_normalizable', error: draft.error };
  // The source's filter sets the severity at ingest (docs/filters.md), so it does here too, or its choice
  // would read as a change. Its match and labels are not run again: a stored incident stays, with its labels.
  const outcome = source.filter && payload.ok ? applyFilter(source.filter, payload.value, draft.value, source.name) : undefined;
  if (outcome && !outcome.filtered && outcome.severity) draft.value.severity = outcome.severity;
  const version = normalizerVersion(draft.value.format);
  const fields = DRAFT_FIELDS.filter((field) => !isDeepStrictEqual(incident[field], draft.value[field])).map(fileKey);
  if (incident.normalizerVersion !== version) fields.push(fileKey('normalizerVersion'));
  return fields.length === 0 ? { outcome: 'unchanged' } : { outcome: 'changed', fields, draft: draft.value, normalizerVersion: version };
}

export interface RenormalizeDeps {
  store: Pick<IncidentStore, 'scanIncidents' | 'countIncidents' | 'renormalizeIncidents'>;
  sources: SourceLookup;
  now: () => Date;
  /** Between two batches, so requests get the store in between. */
  pause: () => Promise<void>;
  /** Told how many incidents of a batch ended how (the tw_renormalized_incidents_total metric). */
  counted: (outcome: Renormalized['outcome'], incidents: number) => void;
  /** Incidents per batch (default 100). */
  batchSize?: number;
  /** Bytes of raw bodies per batch, whatever their number (default 4 MiB). */
  batchBytes?: number;
}

function emptyReport(dryRun: boolean): RenormalizeReport {
  return {
    dry_run: dryRun,
    examined: 0,
    changed: 0,
    unchanged: 0,
    skipped: { other_format: 0, source_not_served: 0, raw_body_dropped: 0, not_normalizable: 0 },
    requeued: 0,
    fields: {},
    samples: [],
    errors: [],
  };
}

/** The `renormalize` job; resumable: its cursor is the last incident of the last batch written. */
export function renormalizeJob(deps: RenormalizeDeps): JobHandler {
  return {
    kind: 'renormalize',
    unit: 'incidents',
    resumable: true,
    async run(context) {
      const params = context.job.params as unknown as RenormalizeParams;
      const range: IncidentRange = { source: params.source, since: params.since, until: params.until };
      const report = structuredClone((context.job.report as RenormalizeReport | null) ?? emptyReport(params.dry_run));
      let cursor = context.job.cursor;
      const total = context.job.progress.total ?? (await deps.store.countIncidents(range));
      context.progress({ done: report.examined, total, report, cursor });
      while (!context.stopped()) {
        const batch = await deps.store.scanIncidents({
          ...range,
          ...(cursor !== null && { after: decodeCursor(cursor) }),
          limit: deps.batchSize ?? 100,
          maxBytes: deps.batchBytes ?? 4 * 1024 * 1024,
        });
        if (batch.length === 0) break;
        const updates = tally(report, batch, params, deps);
        if (!params.dry_run && updates.length > 0) await deps.store.renormalizeIncidents(updates, deps.now().toISOString());
        cursor = encodeCursor(batch[batch.length - 1]!);
        // Incidents received meanwhile in an open range come after the count: the total grows with them.
        context.progress({ done: report.examined, total: Math.max(total, report.examined), report, cursor });
        await context.checkpoint();
        await deps.pause();
      }
      return report;
    },
  };
}

/** Counts a batch into the report; returns the rewrites it needs. */
function tally(report: RenormalizeReport, batch: readonly Incident[], params: RenormalizeParams, deps: RenormalizeDeps): NormalizedUpdate[] {
  const updates: NormalizedUpdate[] = [];
  const counts = { skipped: 0, unchanged: 0, changed: 0 };
  for (const incident of batch) {
    report.examined++;
    const source = deps.sources.get(incident.source);
    const result = renormalized(incident, source, params.format);
    counts[result.outcome]++;
    if (result.outcome === 'skipped') {
      report.skipped[result.reason]++;
      if (result.error !== undefined && report.errors.length < MAX_ERRORS) report.errors.push({ incident_number: incident.number, error: result.error });
      continue;
    }
    if (result.outcome === 'unchanged') {
      report.unchanged++;
      continue;
    }
    report.changed++;
    for (const field of result.fields) report.fields[field] = (report.fields[field] ?? 0) + 1;
    if (report.samples.length < MAX_SAMPLES) report.samples.push({ incident_number: incident.number, fields: result.fields });
    // One still pending is queued already: the dispatcher reads it, new fields and all, when it claims it.
    // A test event never asks for triage, here no more than at ingest.
    const playbook = params.requeue_triage && incident.triage.state !== 'pending' && !incident.test ? (source?.playbook ?? incident.triage.playbook) : null;
    if (playbook) report.requeued++;
    const { id, number, source: sourceName, dedupeKey } = incident;
    updates.push({
      incident: { id, number, source: sourceName, dedupeKey },
      draft: result.draft,
      normalizerVersion: result.normalizerVersion,
      requeuePlaybook: playbook ?? null,
    });
  }
  for (const [outcome, incidents] of Object.entries(counts)) if (incidents > 0) deps.counted(outcome as Renormalized['outcome'], incidents);
  return updates;
}
