import type { Collection } from 'mongodb';
import { isDuplicateKey } from './errors.js';

/** One per (document, attempt): whoever inserts it first holds that attempt's lease. */
export interface ClaimTicket {
  _id: string;
  worker: string;
  /** The end of the lease this ticket granted. */
  until: Date;
}

/**
 * How many due documents one look reads. A backlog then costs one look per this many claims:
 * on FerretDB every look that is not by `_id` scans and sorts the whole collection, so one look
 * per claim drained a storm's queue at a few entries a second.
 */
const CANDIDATES = 16;
/** How long read candidates are offered before the next claim looks again (they are checked on claim anyway). */
const CANDIDATES_FRESH_MS = 2_000;

/**
 * The due documents of the last look, handed to this replica's claimers one at a time, oldest
 * first. A read can be stale: the ticket and the claim's attempt-guarded update decide, so a
 * document taken meanwhile elsewhere only costs that claimer a ticket insert. One look runs at a
 * time; concurrent claimers wait for it instead of reading the same documents again.
 */
export class CandidateBuffer<T> {
  private pending: T[] = [];
  private readAt = 0;
  private lastFound = 0;
  private reading: Promise<void> | undefined;

  /** The next candidate, looking (`read`) when none is left or they are too old; undefined when none is due. */
  async next(read: () => Promise<T[]>, now: Date): Promise<T | undefined> {
    const age = now.getTime() - this.readAt;
    if (age < 0 || age > CANDIDATES_FRESH_MS) this.pending = [];
    while (this.pending.length === 0) {
      this.reading ??= read()
        .then((candidates) => {
          this.pending = candidates;
          this.lastFound = candidates.length;
          this.readAt = now.getTime();
        })
        .finally(() => (this.reading = undefined));
      await this.reading;
      // Nothing due; a look that found some whose candidates other claimers took is followed by another.
      if (this.lastFound === 0) return undefined;
    }
    return this.pending.shift();
  }
}

export interface ClaimOptions<T extends { _id: string }> {
  tickets: Collection<ClaimTicket>;
  /** This replica's candidates of this kind, shared by its claimers. */
  buffer: CandidateBuffer<T>;
  /** Ticket namespace: `inbox`, `triage`. */
  kind: string;
  /** Due documents, oldest first, other than those already lost to other claimers. */
  candidates: (limit: number, except: readonly string[]) => Promise<T[]>;
  /** The attempt count a candidate was read with; its claim is attempt + 1. */
  attempts: (candidate: T) => number;
  /** Writes the claim (lease end, attempt, holder) and returns the claimed document. */
  apply: (candidate: T, attempt: number) => Promise<T | undefined>;
  worker: string;
  now: Date;
  /** The lease end the claim grants. */
  until: Date;
}

/**
 * Claims the first due document that no one else claims at the same attempt. The exclusivity
 * comes from a unique insert (`<kind>:<id>:<attempt>`), not from findOneAndUpdate: FerretDB 1.x
 * runs findAndModify and conditional updates as read-then-write, so two claimers could both "win",
 * while a duplicate-key insert is atomic on every MongoDB-wire server. Tickets are kept (one small
 * document per attempt) so that a claimer holding a stale read can never win an old attempt again.
 */
export async function claimFirst<T extends { _id: string }>(options: ClaimOptions<T>): Promise<T | undefined> {
  const lost: string[] = [];
  for (;;) {
    const candidate = await options.buffer.next(() => options.candidates(CANDIDATES, lost), options.now);
    if (candidate === undefined) return undefined;
    const attempt = await takeTicket(options, candidate._id, options.attempts(candidate) + 1);
    const claimed = attempt === undefined ? undefined : await options.apply(candidate, attempt);
    if (claimed) return claimed;
    lost.push(candidate._id);
  }
}

/**
 * The attempt whose ticket we inserted, or undefined when another claimer holds it. A ticket whose
 * lease has ended without the document showing its attempt belongs to a claimer that died between
 * ticket and claim: that attempt is skipped, not retried forever.
 */
async function takeTicket<T extends { _id: string }>(options: ClaimOptions<T>, id: string, firstAttempt: number): Promise<number | undefined> {
  for (let attempt = firstAttempt; ; attempt++) {
    const ticketId = `${options.kind}:${id}:${attempt}`;
    try {
      await options.tickets.insertOne({ _id: ticketId, worker: options.worker, until: options.until });
      return attempt;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const held = await options.tickets.findOne({ _id: ticketId });
      if (held && held.until > options.now) return undefined;
    }
  }
}

/**
 * Deletes a kind's tickets whose lease ended before `before`. `<kind>:` ids sort between `<kind>:`
 * and `<kind>;` (`;` follows `:`), a range the `_id` index answers on every server.
 */
export async function pruneTickets(tickets: Collection<ClaimTicket>, kind: string, before: Date): Promise<number> {
  const { deletedCount } = await tickets.deleteMany({ _id: { $gt: `${kind}:`, $lt: `${kind};` }, until: { $lt: before } });
  return deletedCount;
}
