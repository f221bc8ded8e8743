import type { Collection } from 'mongodb';
import { isDuplicateKey } from './errors.js';

/** One per (document, attempt): whoever inserts it first holds that attempt's lease. */
export interface ClaimTicket {
  _id: string;
  worker: string;
  /** The end of the lease this ticket granted. */
  until: Date;
}

/** How many due documents a claimer considers per round (more than the claimers that usually race). */
const CANDIDATES = 8;

export interface ClaimOptions<T extends { _id: string }> {
  tickets: Collection<ClaimTicket>;
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
    const candidates = await options.candidates(CANDIDATES, lost);
    if (candidates.length === 0) return undefined;
    for (const candidate of candidates) {
      const attempt = await takeTicket(options, candidate._id, options.attempts(candidate) + 1);
      const claimed = attempt === undefined ? undefined : await options.apply(candidate, attempt);
      if (claimed) return claimed;
      lost.push(candidate._id);
    }
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
