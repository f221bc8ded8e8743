import type { Logger } from '../log/logger.js';
import type { ServedSources, Source } from '../sources/source.js';
import type { RequestContext, RequestMiddleware } from './state.js';
import type { RouteMiddleware } from './routes.js';
import type { Accept } from '../ingest/accept.js';
import type { Metrics } from '../metrics/metrics.js';
import { UNKNOWN_SOURCE_LABEL } from '../metrics/metrics.js';
import { DomainError } from '../core/errors.js';
import { discardBody, readRawBody, refuseDeclaredOver } from './raw-body.js';
import type { BodyBudget } from './body-budget.js';
import { verifyRequest } from '../verify/index.js';
import type { SenderLimits } from './sender-limits.js';
import { clientAddress } from './client-address.js';
import { LineBudget } from '../log/line-budget.js';
import type { BlockList } from 'node:net';

export interface WebhookRouteDeps {
  sources: ServedSources;
  /** Stores the delivery inline or queues it (see ingest/accept.ts). */
  accept: Accept;
  /** The limits before the body is read and the source's own rate limit after verification. */
  limits: SenderLimits;
  /** Peers whose X-Forwarded-For names the client (the address failures are counted against). */
  trustedProxies: BlockList;
  /** Webhook body bytes being read or held, across all requests (TW_MAX_BODY_BYTES_IN_FLIGHT). */
  budget: BodyBudget;
  /** How much of a refused body is read and thrown away before answering (TW_DISCARD_MAX_*). */
  discard: { maxBytes: number; maxMs: number };
  metrics: Metrics;
  logger: Logger;
  nowMs: () => number;
}

const MAX_NAME_IN_MESSAGE = 253;
/** Accepted events logged per second and process; the delivery log and the metrics count every one. */
const ACCEPTED_LINES_PER_SECOND = 20;
const FILTER_ERROR_LINES_PER_SECOND = 5;

/** Refusals a sender should learn for good, so the rest of the body is read for the answer to reach it (see discardBody). */
const FINAL_REFUSALS = new Set(['unknown_source', 'payload_too_large']);

/** `POST /api/webhooks/:source`: the checks of docs/api.md ("The webhook route") in the contract's order. */
export function webhookRoute(deps: WebhookRouteDeps): RouteMiddleware {
  // The accepted-event lines carry only a source name and an id, set here: they skip the redaction
  // guard, whose wildcard paths cost about three times the line itself on the hot path.
  const eventLog = deps.logger.child({}, { redact: [] });
  const eventLines = new LineBudget(ACCEPTED_LINES_PER_SECOND);
  /** One short info line per accepted event, up to the budget; `unlogged` counts the ones skipped before it. */
  const logAccepted = (fields: Record<string, unknown>, message: string) => {
    const skipped = eventLines.take(deps.nowMs());
    if (skipped !== undefined) eventLog.info(skipped > 0 ? { ...fields, unlogged: skipped } : fields, message);
  };
  // A filter that fails on every event of a busy source would otherwise log every request.
  const filterErrorLines = new LineBudget(FILTER_ERROR_LINES_PER_SECOND);
  const logFilterErrors = (fields: Record<string, unknown>, message: string) => {
    const skipped = filterErrorLines.take(deps.nowMs());
    if (skipped !== undefined) deps.logger.warn(skipped > 0 ? { ...fields, unlogged: skipped } : fields, message);
  };
  const receive = async (ctx: Parameters<RouteMiddleware>[0]) => {
    const name = String(ctx.params.source);
    const source = deps.sources.get(name);
    const known = source !== undefined && source.enabled;
    ctx.state.sourceLabel = known ? name : UNKNOWN_SOURCE_LABEL;
    deps.metrics.webhookReceived.inc({ source: ctx.state.sourceLabel });
    if (!known) {
      throw new DomainError('unknown_source', `Webhook source '${name.slice(0, MAX_NAME_IN_MESSAGE)}' is not registered`);
    }
    // Before a byte of the body is read or a MAC computed (see SenderLimits).
    const address = clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], deps.trustedProxies);
    ctx.state.clientAddress = address;
    const refusal = deps.limits.admit(source, address, deps.nowMs());
    if (refusal) {
      deps.metrics.loadShed.inc({ reason: refusal.reason });
      throw new DomainError('rate_limited', refusal.message, { retryAfterSeconds: refusal.retryAfterSeconds });
    }

    refuseDeclaredOver(ctx.req, source.maxBodyBytes);
    const release = deps.budget.reserve(ctx.req, source.maxBodyBytes);
    if (!release) {
      deps.metrics.loadShed.inc({ reason: 'body_bytes_in_flight' });
      throw new DomainError('unavailable', 'Too many request bodies are being received at once; retry shortly', { retryAfterSeconds: 1 });
    }
    deps.metrics.bodyBytesInFlight.set(deps.budget.bytesInFlight);
    try {
      await verifiedAndAccepted(ctx, source, address, await readRawBody(ctx.req, source.maxBodyBytes));
    } finally {
      release();
      deps.metrics.bodyBytesInFlight.set(deps.budget.bytesInFlight);
    }
  };

  const verifiedAndAccepted = async (ctx: RequestContext, source: Source, address: string | null, rawBody: Buffer) => {
    const { name } = source;
    const receivedAtMs = deps.nowMs();
    const verdict = verifyRequest(source, { headers: ctx.req.headers, query: new URLSearchParams(ctx.querystring), rawBody }, Math.floor(receivedAtMs / 1000));
    if (!verdict.ok) {
      deps.limits.failed(source, address, receivedAtMs);
      throw new DomainError(verdict.code, verdict.message);
    }

    const decision = deps.limits.verified(source, address, receivedAtMs);
    if (!decision.allowed) {
      throw new DomainError('rate_limited', `Rate limit of ${source.rateLimit!.requestsPerSecond} requests/s exceeded for source '${name}'`, {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }

    const result = await deps.accept(source, { rawBody, headers: ctx.req.headers, receivedAt: new Date(receivedAtMs) });
    if (!result.ok) throw result.error;
    deps.metrics.lastReceived.set({ source: name }, receivedAtMs / 1000);
    deps.sources.recordEvent(name, receivedAtMs);
    if (result.value.queued) {
      const { queueId, reason } = result.value;
      ctx.state.queueId = queueId;
      deps.metrics.queued.inc({ source: name, reason });
      ctx.status = 202;
      ctx.body = { status: 'queued', queue_id: queueId, message: 'Event queued for processing' };
      logAccepted({ source: name, queueId, reason }, 'delivery queued');
      return;
    }
    const { filterErrors } = result.value;
    if (filterErrors.length > 0) {
      deps.metrics.filterErrors.inc({ source: name }, filterErrors.length);
      logFilterErrors({ source: name, errors: filterErrors }, 'filter expressions could not be evaluated');
    }
    if (result.value.filtered) {
      ctx.state.filtered = true;
      deps.metrics.filtered.inc({ source: name });
      ctx.status = 200;
      ctx.body = { status: 'filtered' };
      logAccepted({ source: name }, 'delivery filtered');
      return;
    }
    const { created, incident } = result.value;
    ctx.state.incidentId = incident.id;
    ctx.state.incidentNumber = incident.number;
    const accepted = { status: 'accepted', incident_id: incident.id, incident_number: incident.number };
    if (created) {
      deps.metrics.incidentsCreated.inc({ source: name, severity: incident.severity });
      ctx.status = 201;
      ctx.body = accepted;
    } else {
      deps.metrics.duplicates.inc({ source: name });
      ctx.status = 200;
      ctx.body = { ...accepted, duplicate: true };
    }
    logAccepted({ source: name, incident: incident.number }, created ? 'incident created' : 'duplicate delivery');
  };

  return async (ctx) => {
    try {
      await receive(ctx);
    } catch (error) {
      // A final refusal must reach the sender, so the rest of its body is read (within bounds). A
      // passing one (429, 503) costs nothing more: the connection is closed on the unread body, and
      // the sender retries, as it would after the answer.
      const whole = error instanceof DomainError && FINAL_REFUSALS.has(error.code) && (await discardBody(ctx.req, deps.discard.maxBytes, deps.discard.maxMs));
      if (!whole && !ctx.req.readableEnded) ctx.set('Connection', 'close');
      throw error;
    }
  };
}

/**
 * Outermost: times every webhook request, whatever the error middleware made of it, and hands the
 * settled request to `onSettled` (the delivery log) when given.
 */
export function webhookTiming(metrics: Metrics, onSettled?: (ctx: RequestContext, source: string, latencyMs: number) => void): RequestMiddleware {
  return async (ctx, next) => {
    const startedAt = performance.now();
    try {
      await next();
    } finally {
      const source = ctx.state.sourceLabel;
      if (source !== undefined) {
        const latencyMs = performance.now() - startedAt;
        metrics.requestDuration.observe({ source, status_class: `${Math.floor(ctx.status / 100)}xx` }, latencyMs / 1000);
        onSettled?.(ctx, source, latencyMs);
      }
    }
  };
}
