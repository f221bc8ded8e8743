/**
 * Which incidents and raw bodies have outlived their retention (docs/operations.md, "Retention"):
 * a global setting, a per-source override in the source spec, raw bodies kept at most as long as
 * their incident. Pure: the sources and the clock come in, the rules the stores apply come out.
 */

import type { RetentionSettings } from '../config/data-settings.js';

/** The incidents a rule covers: one source's, or every source's but those with rules of their own. */
export type IncidentScope = { source: string } | { exceptSources: readonly string[] };

export interface RetentionRule {
  scope: IncidentScope;
  /** Incidents received before this (ISO) are deleted; null: kept for good. */
  incidentsBefore: string | null;
  /** Raw bodies of incidents received before this are dropped; null: kept as long as the incident. */
  rawBodiesBefore: string | null;
}

/** What a source says of its retention; undefined fields take the global settings. */
export interface SourceRetention {
  name: string;
  retentionDays: number | undefined;
  rawBodyRetentionDays: number | undefined;
}

const DAY_MS = 86_400_000;

/** The rule of every source without an override of its own, then one per source with one. Rules that keep everything are left out. */
export function retentionRules(sources: readonly SourceRetention[], settings: RetentionSettings, now: Date): RetentionRule[] {
  const overriding = sources.filter((source) => source.retentionDays !== undefined || source.rawBodyRetentionDays !== undefined);
  const rules = [
    rule({ exceptSources: overriding.map((source) => source.name) }, settings, now),
    ...overriding.map((source) =>
      rule({ source: source.name }, { days: source.retentionDays ?? settings.days, rawBodyDays: source.rawBodyRetentionDays ?? settings.rawBodyDays }, now),
    ),
  ];
  return rules.filter((candidate) => candidate.incidentsBefore !== null || candidate.rawBodiesBefore !== null);
}

function rule(scope: IncidentScope, { days, rawBodyDays }: RetentionSettings, now: Date): RetentionRule {
  const cutoff = (keepDays: number) => (keepDays === 0 ? null : new Date(now.getTime() - keepDays * DAY_MS).toISOString());
  // A raw body set to outlive its incident goes with it: only a shorter setting is a rule of its own.
  const rawDays = rawBodyDays !== 0 && (days === 0 || rawBodyDays < days) ? rawBodyDays : 0;
  return { scope, incidentsBefore: cutoff(days), rawBodiesBefore: cutoff(rawDays) };
}
