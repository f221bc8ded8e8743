/**
 * An alert storm scored by loss. Real vendor bodies (test/fixtures/payloads, one source per vendor
 * family, each signed with its own secret) at a steady rate with bursts at ten times it, from all
 * the sources at once. Senders behave like real vendors: each event carries its own `webhook-id`
 * (the same on every retry; the sources verify Standard Webhooks, whose signature covers it, since
 * an id the signature does not cover is not an event's identity — docs/api.md, "Event identity"), a 429 or 503 is retried after its Retry-After and a failed or timed
 * out attempt after a second (a bounded number of times), any other answer is final. Afterwards every acknowledged event is looked for through the
 * read API: acknowledged but not stored is lost, stored twice breaks exactly-once.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from 'mongodb';
import { standardWebhooksHeaders } from '../helpers/sign.js';

export interface StormSource {
  name: string;
  secret: string;
  bodies: Buffer[];
}

export interface StormPlan {
  steadyRate: number;
  burstFactor: number;
  seconds: number;
  /** Burst windows as [start, end) seconds into the storm. */
  bursts: readonly (readonly [number, number])[];
  /** Attempts per event, the first included, before the sender gives up. */
  maxAttempts: number;
  /** The longest Retry-After a sender waits; a longer one is cut to this. */
  maxRetryAfterSeconds: number;
  /** How long a sender waits for an answer before it gives the attempt up and retries (as vendors do). */
  timeoutSeconds: number;
}

export interface StormResult {
  events: number;
  /** Events answered 2xx in the end (201 stored, 200 duplicate, 202 queued). */
  acknowledged: number;
  /** Every answer of every attempt, by status (`error` for a failed connection, `timeout` for none in time). */
  answers: Record<string, number>;
  /** Events that needed at least one retry, and the retries in all. */
  retriedEvents: number;
  retries: number;
  /** Events whose last attempt was still refused (429/503) when the sender gave up. */
  gaveUp: number;
  /** Events answered with a final non-retryable error, by status. */
  rejected: Record<string, number>;
  /** Acknowledged but not found in the store afterwards (null when the store could not be read back). */
  lost: number | null;
  /** Events stored more than once (null when the store could not be read back). */
  storedTwice: number | null;
  /** Why the store could not be read back, if it could not. */
  readBackError?: string;
  /** Queued (202) events not processed (or not readable) when the read-back gave up waiting: neither stored nor lost yet. */
  unresolved: number;
  /** From the scheduled send to the first answer, and to the acknowledgement (retries included), ms. */
  firstAnswer: { p50: number; p99: number };
  toAcknowledgement: { p50: number; p99: number };
  seconds: number;
}

const FAMILIES: Record<string, string> = {
  crowdstrike: 'crowdstrike',
  graph: 'defender',
  defender: 'defender',
  o365: 'defender',
  splunk: 'splunk',
  generic: 'generic',
};

/** The fixture payloads grouped into one storm source per vendor family. */
export function stormSources(): StormSource[] {
  const folder = resolve(import.meta.dirname, '../fixtures/payloads');
  const sources = new Map<string, StormSource>();
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.json'))) {
    const family = FAMILIES[file.split('-')[0]!];
    if (!family) continue;
    const name = `storm-${family}`;
    const source = sources.get(name) ?? { name, secret: `whsec_${Buffer.from(`${name}-signing-key`).toString('base64')}`, bodies: [] };
    source.bodies.push(readFileSync(join(folder, file)));
    sources.set(name, source);
  }
  return [...sources.values()];
}

/** The storm's sources as webhook_config.yaml entries, each with `rateLimit`. */
export function stormConfig(sources: readonly StormSource[], rateLimit: { requestsPerSecond: number; burst: number }): string {
  return sources
    .map(
      (source) =>
        `  ${source.name}:\n    secret: "${source.secret}"\n    verification: standard-webhooks\n` +
        `    rate_limit:\n      requests_per_second: ${rateLimit.requestsPerSecond}\n      burst: ${rateLimit.burst}\n`,
    )
    .join('');
}

interface Answer {
  status: number | 'error' | 'timeout';
  retryAfter: number | undefined;
  body: { incident_id?: string; queue_id?: string };
}

interface Outcome {
  webhookId: string;
  source: string;
  acknowledged?: Answer['body'];
  firstAnswerMs: number;
  acknowledgedMs?: number;
  attempts: number;
}

function post(agent: Agent, port: number, path: string, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<Answer> {
  return new Promise((done) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, 'content-length': String(body.length) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          let parsed: Answer['body'] = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'];
          } catch {
            // an empty or non-JSON answer: only its status counts
          }
          const retryAfter = Number(res.headers['retry-after']);
          done({ status: res.statusCode ?? 0, retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined, body: parsed });
        });
        res.once('error', () => done({ status: 'error', retryAfter: undefined, body: {} }));
      },
    );
    let timedOut = false;
    outgoing.setTimeout(timeoutMs, () => {
      timedOut = true;
      outgoing.destroy();
    });
    outgoing.once('error', () => done({ status: timedOut ? 'timeout' : 'error', retryAfter: undefined, body: {} }));
    outgoing.end(body);
  });
}

type ReadBack = Pick<StormResult, 'lost' | 'storedTwice' | 'unresolved' | 'readBackError'>;

/** Sends the storm to the replicas on `ports` (events spread over them) and scores it with `stored`. */
export async function runStorm(
  ports: readonly number[],
  sources: readonly StormSource[],
  plan: StormPlan,
  stored: (acknowledged: readonly Outcome[]) => Promise<ReadBack>,
): Promise<StormResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const answers: Record<string, number> = {};
  const rejected: Record<string, number> = {};
  let retries = 0;
  let gaveUp = 0;
  const outcomes: Outcome[] = [];
  const inFlight: Promise<void>[] = [];

  const deliver = async (index: number, scheduledAt: number) => {
    const source = sources[index % sources.length]!;
    const body = source.bodies[Math.floor(index / sources.length) % source.bodies.length]!;
    const port = ports[index % ports.length]!;
    const outcome: Outcome = { webhookId: randomUUID(), source: source.name, firstAnswerMs: 0, attempts: 0 };
    outcomes.push(outcome);
    for (;;) {
      outcome.attempts++;
      const headers = standardWebhooksHeaders(source.secret, outcome.webhookId, body);
      const answer = await post(agent, port, `/api/webhooks/${source.name}`, headers, body, plan.timeoutSeconds * 1000);
      if (outcome.attempts === 1) outcome.firstAnswerMs = performance.now() - scheduledAt;
      answers[answer.status] = (answers[answer.status] ?? 0) + 1;
      if (typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300) {
        outcome.acknowledged = answer.body;
        outcome.acknowledgedMs = performance.now() - scheduledAt;
        return;
      }
      const retryable = answer.status === 429 || answer.status === 503 || typeof answer.status === 'string';
      if (!retryable) {
        rejected[answer.status] = (rejected[answer.status] ?? 0) + 1;
        return;
      }
      if (outcome.attempts >= plan.maxAttempts) {
        gaveUp++;
        return;
      }
      retries++;
      await sleep(Math.min(answer.retryAfter ?? 1, plan.maxRetryAfterSeconds) * 1000);
    }
  };

  // The schedule: event times at the steady rate, ten times denser inside the bursts.
  const times: number[] = [];
  for (let t = 0; t < plan.seconds;) {
    times.push(t);
    const burst = plan.bursts.some(([start, end]) => t >= start && t < end);
    t += 1 / (plan.steadyRate * (burst ? plan.burstFactor : 1));
  }
  const startedAt = performance.now() + 10;
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < times.length && startedAt + times[next]! * 1000 <= now) {
        inFlight.push(deliver(next, startedAt + times[next]! * 1000));
        next++;
      }
      if (next < times.length) setTimeout(tick, Math.max(0, startedAt + times[next]! * 1000 - performance.now()));
      else done();
    };
    setTimeout(tick, 10);
  });
  await Promise.all(inFlight);
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();

  const acknowledged = outcomes.filter((outcome) => outcome.acknowledged);
  const { lost, storedTwice, unresolved, readBackError } = await stored(acknowledged).catch((error: unknown): ReadBack => ({
    lost: null,
    storedTwice: null,
    unresolved: 0,
    readBackError: error instanceof Error ? error.message : String(error),
  }));
  const percentiles = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const at = (quantile: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] ?? NaN);
    return { p50: at(0.5), p99: at(0.99) };
  };
  return {
    events: outcomes.length,
    acknowledged: acknowledged.length,
    answers,
    retriedEvents: outcomes.filter((outcome) => outcome.attempts > 1).length,
    retries,
    gaveUp,
    rejected,
    lost,
    storedTwice,
    unresolved,
    ...(readBackError !== undefined && { readBackError }),
    firstAnswer: percentiles(outcomes.map((outcome) => outcome.firstAnswerMs)),
    toAcknowledgement: percentiles(acknowledged.map((outcome) => outcome.acknowledgedMs!)),
    seconds,
  };
}

/** What the store holds after a storm, as one of the readers below sees it. */
export interface StoreReader {
  /** Resolves once no queued delivery is waiting (or at `deadline`, ms since the epoch). */
  queueEmpty(deadline: number): Promise<void>;
  /** A queued delivery's incident id once done, `dead`, or `pending` (not processed or not readable yet). */
  queueEntry(queueId: string): Promise<string>;
  /** Every incident of the storm's sources: id and dedupe key. */
  incidents(): Promise<{ id: string; dedupeKey: string }[]>;
}

/**
 * Scores the acknowledged events against the store: queued ones are awaited (up to
 * `queueDeadlineMs`) and resolved to their incidents, then every incident is listed once.
 */
export function readBack(reader: StoreReader, queueDeadlineMs = 120_000) {
  return async (acknowledged: readonly Outcome[]): Promise<ReadBack> => {
    const queued = acknowledged.filter((outcome) => outcome.acknowledged!.queue_id !== undefined);
    const deadline = Date.now() + queueDeadlineMs;
    if (queued.length > 0) await reader.queueEmpty(deadline);
    const queuedIncident = new Map<Outcome, string>();
    await inParallel(queued, 8, async (outcome) => {
      // Not read before a second deadline: unresolved, neither stored nor lost yet.
      const resolved = Date.now() > deadline + queueDeadlineMs ? 'pending' : await reader.queueEntry(outcome.acknowledged!.queue_id!).catch(() => 'pending');
      queuedIncident.set(outcome, resolved);
    });
    const incidentIds = new Set<string>();
    const perKey = new Map<string, number>();
    for (const { id, dedupeKey } of await reader.incidents()) {
      incidentIds.add(id);
      perKey.set(dedupeKey, (perKey.get(dedupeKey) ?? 0) + 1);
    }
    let lost = 0;
    let unresolved = 0;
    for (const outcome of acknowledged) {
      const incidentId = outcome.acknowledged!.incident_id ?? queuedIncident.get(outcome);
      if (incidentId === 'pending') unresolved++;
      else if (incidentId === undefined || !incidentIds.has(incidentId)) lost++;
    }
    return { lost, storedTwice: [...perKey.values()].filter((count) => count > 1).length, unresolved };
  };
}

/** Reads through the service's API (any replica: they share the store), as an operator would. */
export function apiReader(baseUrl: string, token: string, sourceNames: readonly string[]): StoreReader {
  // A reader retries a 503 too (the store may still be busy with the storm's tail), a bounded number of times.
  const get = async (path: string, attempts = 10): Promise<Record<string, any>> => {
    const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 503 && attempts > 1) {
      await response.text();
      await sleep(Math.min(Number(response.headers.get('retry-after')) || 1, 5) * 1000);
      return get(path, attempts - 1);
    }
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, any>;
  };
  return {
    queueEmpty: async (deadline) => {
      // The depth gauge is refreshed every few seconds: two empty readings in a row.
      for (let empty = 0; empty < 2 && Date.now() < deadline; await sleep(3_000)) {
        const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
        empty = /^webhook_queue_depth (\d+)/m.exec(metrics)?.[1] === '0' ? empty + 1 : 0;
      }
    },
    queueEntry: async (queueId) => {
      const entry = await get(`/api/queue/${queueId}`, 1);
      return entry.status === 'done' ? (entry.incident_id as string) : entry.status === 'dead' ? 'dead' : 'pending';
    },
    incidents: async () => {
      const incidents: { id: string; dedupeKey: string }[] = [];
      for (const source of sourceNames) {
        for (let cursor: string | null = ''; cursor !== null;) {
          const page = await get(`/api/incidents?source=${source}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          for (const item of page.items as { incident_id: string; dedupe_key: string }[]) incidents.push({ id: item.incident_id, dedupeKey: item.dedupe_key });
          cursor = page.next as string | null;
        }
      }
      return incidents;
    },
  };
}

/**
 * Reads the MongoDB store's collections directly. On FerretDB the API's newest-first pages are a
 * sort of the whole collection per page, which a backlog of queued work can push past the
 * driver's timeouts; reading the documents themselves is what the store holds, whatever the API.
 */
export function mongoReader(db: Db): StoreReader {
  const inbox = db.collection<{ _id: string; status: string; incidentId: string | null }>('inbox');
  return {
    queueEmpty: async (deadline) => {
      while (Date.now() < deadline && (await inbox.countDocuments({ status: { $in: ['queued', 'processing'] } })) > 0) await sleep(3_000);
    },
    queueEntry: async (queueId) => {
      const entry = await inbox.findOne({ _id: queueId }, { projection: { status: 1, incidentId: 1 } });
      return entry?.status === 'done' ? entry.incidentId! : entry?.status === 'dead' ? 'dead' : 'pending';
    },
    incidents: async () =>
      (
        await db
          .collection<{ id: string; dedupeKey: string }>('incidents')
          .find({}, { projection: { id: 1, dedupeKey: 1 } })
          .toArray()
      ).map(({ id, dedupeKey }) => ({ id, dedupeKey })),
  };
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
