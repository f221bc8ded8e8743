import { randomUUID } from 'node:crypto';
import { doneOutcome, type Ingest, type IngestOutcome, type WebhookEvent } from './ingest.js';
import { checkedEventId } from '../incidents/dedupe.js';
import { signedEventId, signedIdHeader } from '../verify/index.js';
import type { Source } from '../sources/source.js';
import type { InboxStore, NewQueueEntry } from '../incidents/ports.js';
import { ok, type Result } from '../core/result.js';

type QueueReason = 'async' | 'budget';

type Accepted = ({ queued: false } & IngestOutcome) | { queued: true; queueId: string; reason: QueueReason };

/** What the webhook route does with a verified delivery: store it now, or queue it durably. */
export type Accept = (source: Source, event: WebhookEvent) => Promise<Result<Accepted>>;

export interface AcceptDeps {
  ingest: Ingest;
  inbox: InboxStore;
  /** 0 = always wait for inline processing. */
  inlineBudgetMs: number;
  /** Called after an entry is durably queued (wakes this replica's worker). */
  onQueued?: (reason: QueueReason, source: Source) => void;
  now?: () => Date;
}

/**
 * `processing: async` sources are queued without processing. Sync ones are processed inline, but
 * if that takes longer than the budget the delivery is written to the inbox and answered 202: the
 * inline attempt keeps running, and whichever of it and the worker stores the incident second finds
 * the first's (same source + dedupe key), so the event is stored exactly once and the queue entry
 * ends `done` with the incident's ids. An inline attempt that ends before a worker claims the entry
 * records that itself, so a burst over the budget is not processed twice. Nothing is acknowledged
 * before the inbox write is durable.
 */
export function createAccept(deps: AcceptDeps): Accept {
  const now = deps.now ?? (() => new Date());
  const enqueue = async (source: Source, event: WebhookEvent, reason: QueueReason): Promise<string> => {
    const entry = queueEntry(source, event);
    await deps.inbox.enqueue(entry);
    deps.onQueued?.(reason, source);
    return entry.id;
  };
  // Attempt 0 is the unclaimed entry: a worker's claim wins, and its own attempt finds the incident stored.
  const settle = async (queueId: string, inline: Promise<Result<IngestOutcome>>): Promise<void> => {
    const result = await inline;
    if (result.ok) await deps.inbox.finishEntry({ id: queueId, attempts: 0 }, doneOutcome(result.value), now());
  };

  return async (source, event) => {
    // An id the use-case would refuse is refused now, not after the delivery was queued.
    const id = checkedEventId(signedEventId(source.verification, event.headers));
    if (!id.ok) return id;
    if (source.processing === 'async') return ok({ queued: true, queueId: await enqueue(source, event, 'async'), reason: 'async' });
    const inline = deps.ingest(source, event);
    const answer = inline.then((result): Result<Accepted> => (result.ok ? ok(Object.assign({ queued: false as const }, result.value)) : result));
    if (deps.inlineBudgetMs === 0) return answer;
    let timer: NodeJS.Timeout | undefined;
    const overBudget = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deps.inlineBudgetMs)));
    const first = await Promise.race([answer, overBudget]).finally(() => clearTimeout(timer));
    if (first !== undefined) return first;
    // A failed inline attempt is the worker's business from here: it is retried there.
    answer.catch(() => undefined);
    const queueId = await enqueue(source, event, 'budget');
    settle(queueId, inline).catch(() => undefined);
    return ok({ queued: true, queueId, reason: 'budget' });
  };
}

/** The inbox entry of a delivery: the raw body and only the header the dedupe key reads (the signed event id). */
function queueEntry(source: Source, event: WebhookEvent): NewQueueEntry {
  const name = signedIdHeader(source.verification, event.headers);
  const value = name === undefined ? undefined : event.headers[name];
  const headers: [string, string][] = typeof value === 'string' ? [[name!, value]] : [];
  return { id: `queue-${randomUUID()}`, source: source.name, body: event.rawBody, headers, receivedAt: event.receivedAt.toISOString() };
}
