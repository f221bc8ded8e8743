/** Incident numbers are `INC-<year>-<seq>`: per calendar year (UTC), at least four digits, never reused. */

export function formatIncidentNumber(year: number, sequence: number): string {
  return `INC-${year}-${String(sequence).padStart(4, '0')}`;
}

/** The numbering year of an incident: the UTC year it was received in. */
export function numberingYear(receivedAtIso: string): number {
  return Number(receivedAtIso.slice(0, 4));
}
