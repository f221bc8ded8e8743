import { DomainError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';
import type { Incident, IncidentStatus, StatusChange } from './model.js';
import type { IncidentStore } from './ports.js';

export type StatusTarget = Exclude<IncidentStatus, 'new'>;

/** The statuses an incident may be moved from: forward only (a resolved incident stays resolved). */
const MOVES_FROM: Record<StatusTarget, readonly IncidentStatus[]> = {
  acknowledged: ['new'],
  resolved: ['new', 'acknowledged'],
};

/**
 * Acknowledges or resolves an incident. Asking again for the status it has is answered with the
 * incident as it is (the first record kept), so a retried request is harmless; a move backwards
 * is a conflict.
 */
export async function changeStatus(
  store: Pick<IncidentStore, 'changeIncidentStatus'>,
  idOrNumber: string,
  to: StatusTarget,
  change: StatusChange,
): Promise<Result<Incident>> {
  const after = await store.changeIncidentStatus(idOrNumber, to, MOVES_FROM[to], change);
  if (!after) return err(new DomainError('not_found', `Incident '${idOrNumber.slice(0, 64)}' not found`));
  if (after.status !== to) return err(new DomainError('conflict', `Incident ${after.number} is ${after.status}: it cannot be ${to} again`));
  return ok(after);
}
