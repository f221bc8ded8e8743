import type { Collection } from 'mongodb';
import type { Incident, TriageState } from '../../incidents/model.js';
import type { Claim, TriageOutboxStore, TriageOutcome } from '../../incidents/ports.js';
import { triageChanges } from '../triage-outcome.js';
import { fromDocument, type IncidentDocument } from './incident-document.js';
import type { RunOperation } from './run.js';
import { CandidateBuffer, claimFirst, type ClaimTicket } from './claims.js';

/** The outbox is the incident document's own `triage`: one document, so no transaction is needed. */
export class MongoTriageOutbox implements TriageOutboxStore {
  private readonly candidates = new CandidateBuffer<IncidentDocument>();

  constructor(
    private readonly incidents: Collection<IncidentDocument>,
    private readonly tickets: Collection<ClaimTicket>,
    private readonly run: RunOperation,
  ) {}

  claimTriage(worker: string, now: Date, leaseMs: number): Promise<Incident | undefined> {
    const until = new Date(now.getTime() + leaseMs);
    return this.run(async () => {
      const claimed = await claimFirst<IncidentDocument>({
        tickets: this.tickets,
        buffer: this.candidates,
        kind: 'triage',
        candidates: (limit, except) =>
          this.incidents
            .find({ _id: { $nin: [...except] }, 'triage.state': 'pending', 'triage.nextAttemptAt': { $lte: now.toISOString() } })
            .sort({ 'triage.nextAttemptAt': 1 })
            .limit(limit)
            .toArray(),
        attempts: (candidate) => candidate.triage.attempts,
        apply: async (candidate, attempts) => {
          const nextAttemptAt = until.toISOString();
          const result = await this.incidents.updateOne(
            { _id: candidate._id, 'triage.state': 'pending', 'triage.attempts': candidate.triage.attempts },
            { $set: { 'triage.attempts': attempts, 'triage.nextAttemptAt': nextAttemptAt, triageClaimedBy: worker } },
          );
          return result.matchedCount === 1 ? { ...candidate, triage: { ...candidate.triage, attempts, nextAttemptAt } } : undefined;
        },
        worker,
        now,
        until,
      });
      return claimed ? fromDocument(claimed) : undefined;
    });
  }

  finishTriage(claim: Claim, outcome: TriageOutcome): Promise<boolean> {
    return this.run(async () => {
      const changes = Object.fromEntries(Object.entries(triageChanges(outcome)).map(([key, value]) => [`triage.${key}`, value]));
      const result = await this.incidents.updateOne(
        { id: claim.id, 'triage.state': 'pending', 'triage.attempts': claim.attempts },
        { $set: { ...changes, triageClaimedBy: null } },
      );
      return result.modifiedCount === 1;
    });
  }

  listTriage(query: { state: Exclude<TriageState, 'none'>; limit: number }): Promise<Incident[]> {
    return this.run(async () => {
      const documents = await this.incidents.find({ 'triage.state': query.state }).sort({ 'triage.nextAttemptAt': 1, id: 1 }).limit(query.limit).toArray();
      return documents.map(fromDocument);
    });
  }

  countPendingTriage(): Promise<number> {
    return this.run(() => this.incidents.countDocuments({ 'triage.state': 'pending' }));
  }
}
