import type { Collection } from 'mongodb';
import type { Incident, TriageState } from '../../incidents/model.js';
import type { Claim, TriageOutboxStore, TriageOutcome } from '../store.js';
import { triageChanges } from '../triage-outcome.js';
import { fromDocument, type IncidentDocument } from './incident-document.js';
import type { RunOperation } from './run.js';

/** The outbox is the incident document's own `triage`: one document, so no transaction is needed. */
export class MongoTriageOutbox implements TriageOutboxStore {
  constructor(
    private readonly incidents: Collection<IncidentDocument>,
    private readonly run: RunOperation,
  ) {}

  claimTriage(worker: string, now: Date, leaseMs: number): Promise<Incident | undefined> {
    return this.run(async () => {
      const document = await this.incidents.findOneAndUpdate(
        { 'triage.state': 'pending', 'triage.nextAttemptAt': { $lte: now.toISOString() } },
        {
          $set: { 'triage.nextAttemptAt': new Date(now.getTime() + leaseMs).toISOString(), triageClaimedBy: worker },
          $inc: { 'triage.attempts': 1 },
        },
        { sort: { 'triage.nextAttemptAt': 1 }, returnDocument: 'after' },
      );
      return document ? fromDocument(document) : undefined;
    });
  }

  finishTriage(claim: Claim, outcome: TriageOutcome): Promise<boolean> {
    return this.run(async () => {
      const changes = Object.fromEntries(Object.entries(triageChanges(outcome)).map(([key, value]) => [`triage.${key}`, value]));
      const result = await this.incidents.updateOne(
        { _id: claim.id, 'triage.state': 'pending', 'triage.attempts': claim.attempts },
        { $set: { ...changes, triageClaimedBy: null } },
      );
      return result.modifiedCount === 1;
    });
  }

  listTriage(query: { state: Exclude<TriageState, 'none'>; limit: number }): Promise<Incident[]> {
    return this.run(async () => {
      const documents = await this.incidents
        .find({ 'triage.state': query.state })
        .sort({ 'triage.nextAttemptAt': 1, _id: 1 })
        .limit(query.limit)
        .toArray();
      return documents.map(fromDocument);
    });
  }
}
