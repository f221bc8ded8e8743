import { Binary, type Collection } from 'mongodb';
import type { Claim, InboxStore, NewQueueEntry, QueueEntry, QueueOutcome } from '../../incidents/ports.js';
import type { RunOperation } from './run.js';
import { CandidateBuffer, claimFirst, pruneTickets, type ClaimTicket } from './claims.js';

/** An inbox entry: fixed keys only; the body is binary, headers are name/value pairs. */
export interface InboxDocument extends Omit<QueueEntry, 'id' | 'body' | 'headers'> {
  _id: string;
  body: Binary;
  headers: { name: string; value: string }[];
}

export class MongoInbox implements InboxStore {
  private readonly candidates = new CandidateBuffer<InboxDocument>();

  constructor(
    private readonly entries: Collection<InboxDocument>,
    private readonly tickets: Collection<ClaimTicket>,
    private readonly run: RunOperation,
  ) {}

  enqueue(entry: NewQueueEntry): Promise<void> {
    return this.run(async () => {
      await this.entries.insertOne({
        _id: entry.id,
        source: entry.source,
        body: new Binary(entry.body),
        headers: entry.headers.map(([name, value]) => ({ name, value })),
        receivedAt: entry.receivedAt,
        status: 'queued',
        attempts: 0,
        lastError: null,
        dueAt: entry.receivedAt,
        claimedBy: null,
        incidentId: null,
        incidentNumber: null,
        updatedAt: entry.receivedAt,
      });
    });
  }

  getEntry(id: string): Promise<QueueEntry | undefined> {
    return this.run(async () => {
      const document = await this.entries.findOne({ _id: id });
      return document ? toEntry(document) : undefined;
    });
  }

  claimEntry(worker: string, now: Date, leaseMs: number): Promise<QueueEntry | undefined> {
    const until = new Date(now.getTime() + leaseMs);
    return this.run(async () => {
      const claimed = await claimFirst<InboxDocument>({
        tickets: this.tickets,
        buffer: this.candidates,
        kind: 'inbox',
        candidates: async (limit, except) => {
          // One look per status, not `$in`: FerretDB hands a top-level equality to PostgreSQL's
          // WHERE, so a look reads the open entries only, not every done one kept for retention.
          const due = (status: 'queued' | 'processing') =>
            this.entries
              .find({ _id: { $nin: [...except] }, status, dueAt: { $lte: now.toISOString() } })
              .sort({ dueAt: 1 })
              .limit(limit)
              .toArray();
          const [queued, expired] = await Promise.all([due('queued'), due('processing')]);
          return [...queued, ...expired].sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0)).slice(0, limit);
        },
        attempts: (candidate) => candidate.attempts,
        apply: async (candidate, attempts) => {
          const claim = { status: 'processing' as const, attempts, claimedBy: worker, dueAt: until.toISOString(), updatedAt: now.toISOString() };
          const result = await this.entries.updateOne(
            { _id: candidate._id, attempts: candidate.attempts, status: { $in: ['queued', 'processing'] } },
            { $set: claim },
          );
          return result.matchedCount === 1 ? { ...candidate, ...claim } : undefined;
        },
        worker,
        now,
        until,
      });
      return claimed ? toEntry(claimed) : undefined;
    });
  }

  finishEntry(claim: Claim, outcome: QueueOutcome, now: Date): Promise<boolean> {
    return this.run(async () => {
      const result = await this.entries.updateOne(
        { _id: claim.id, attempts: claim.attempts, status: claim.attempts === 0 ? 'queued' : 'processing' },
        {
          $set: {
            status: outcome.status,
            lastError: outcome.status === 'done' ? null : outcome.error,
            dueAt: outcome.status === 'queued' ? outcome.dueAt : now.toISOString(),
            claimedBy: null,
            incidentId: outcome.status === 'done' ? outcome.incidentId : null,
            incidentNumber: outcome.status === 'done' ? outcome.incidentNumber : null,
            updatedAt: now.toISOString(),
          },
        },
      );
      return result.modifiedCount === 1;
    });
  }

  countOpenEntries(): Promise<number> {
    return this.run(async () => {
      const [queued, processing] = await Promise.all([
        this.entries.countDocuments({ status: 'queued' }),
        this.entries.countDocuments({ status: 'processing' }),
      ]);
      return queued + processing;
    });
  }

  /**
   * An ended entry's dueAt is when it ended (the status_dueAt index serves this). The claim
   * tickets go too, by the end of the lease they granted: a claimer cannot hold a read that old.
   */
  pruneEntries(before: string): Promise<number> {
    return this.run(async () => {
      const { deletedCount } = await this.entries.deleteMany({ status: { $in: ['done', 'dead'] }, dueAt: { $lt: before } });
      await pruneTickets(this.tickets, 'inbox', new Date(before));
      return deletedCount;
    });
  }
}

function toEntry(document: InboxDocument): QueueEntry {
  return {
    id: document._id,
    source: document.source,
    body: Buffer.from(document.body.buffer),
    headers: document.headers.map(({ name, value }) => [name, value]),
    receivedAt: document.receivedAt,
    status: document.status,
    attempts: document.attempts,
    lastError: document.lastError,
    dueAt: document.dueAt,
    claimedBy: document.claimedBy,
    incidentId: document.incidentId,
    incidentNumber: document.incidentNumber,
    updatedAt: document.updatedAt,
  };
}
