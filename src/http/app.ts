import type { BlockList } from 'node:net';
import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import type { Accept } from '../ingest/accept.js';
import { deliveryRecord } from './delivery-record.js';
import type { DeliveryRecorder } from '../workers/delivery-recorder.js';
import { apiHandlers, type ApiDeps } from './api/api-handlers.js';
import { authorizeWith, type Authenticate } from './api/auth.js';
import { tableRouter, type BuiltHandlers, type RouteRow } from './routes.js';
import { OPENAPI_DOCUMENT } from './api/openapi.js';
import { errorMiddleware } from './error-middleware.js';
import type { RequestState } from './state.js';
import type { SenderLimits } from './sender-limits.js';
import type { BodyBudget } from './body-budget.js';
import { webhookRoute, webhookTiming } from './webhook-route.js';
import type { Drain } from './drain.js';
import type { ServedSources } from '../sources/source.js';

export interface HandlerDeps {
  logger: Logger;
  metrics: Metrics;
  sources: ServedSources & { ready(): boolean; problem(): string | undefined };
  /** Why the edited webhook_config.yaml is not served (the last good one is), if it is not. */
  configProblem?: () => string | undefined;
  store: Store;
  /** Peers whose X-Forwarded-For names the client (the delivery log's remote address, the receiver's limits). */
  trustedProxies: BlockList;
  /** The shutdown's drain: /readyz fails and connections close once it has begun. */
  drain: Drain;
  /** The receiver's parts, in a process that receives (TW_MODE all or receiver). */
  receiver?: {
    accept: Accept;
    /** Before the body is read, and the sources' own rate limits after verification. */
    limits: SenderLimits;
    /** Webhook body bytes being read or held, and what a refused body may still cost (docs/configuration.md, "Limits"). */
    bodies: { budget: BodyBudget; discard: { maxBytes: number; maxMs: number } };
  };
  /** The `/api` routers' own dependencies (keys, registration, log feed), in a process that controls (TW_MODE all or control). */
  api?: Omit<ApiDeps, 'store' | 'metrics' | 'logger'>;
  nowMs?: () => number;
}

/** The handlers of the planes this process runs: the probes and metrics always, the receiver and the API when given. */
export function routeHandlers(deps: HandlerDeps): BuiltHandlers {
  const { receiver, api } = deps;
  return {
    healthz: (ctx) => {
      ctx.body = { status: 'ok' };
    },
    readyz: (ctx) => {
      const store = deps.store.health();
      const sourcesProblem = deps.sources.problem();
      const checks = { sources: deps.sources.ready(), store: store.healthy };
      const { draining } = deps.drain;
      const ready = checks.sources && checks.store && !draining;
      ctx.status = ready ? 200 : 503;
      // A rejected edit does not make the replica unready: it serves the last good configuration.
      const configError = deps.configProblem?.();
      ctx.body = {
        status: ready ? 'ready' : 'not_ready',
        checks,
        ...(sourcesProblem !== undefined && { sources_error: sourcesProblem }),
        ...(!store.healthy && { store_error: store.reason }),
        ...(configError && { config_error: configError }),
        ...(draining && { draining }),
      };
    },
    metrics: async (ctx) => {
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
    },
    ...(receiver && {
      'webhooks.receive': webhookRoute({
        sources: deps.sources,
        accept: receiver.accept,
        limits: receiver.limits,
        trustedProxies: deps.trustedProxies,
        budget: receiver.bodies.budget,
        discard: receiver.bodies.discard,
        metrics: deps.metrics,
        logger: deps.logger,
        nowMs: deps.nowMs ?? Date.now,
      }),
    }),
    ...(api && {
      // The API's description, public like the docs it mirrors.
      openapi: (ctx) => {
        ctx.body = OPENAPI_DOCUMENT;
      },
      ...apiHandlers({ ...api, store: deps.store, metrics: deps.metrics, logger: deps.logger }),
    }),
  };
}

export interface AppDeps {
  handlers: BuiltHandlers;
  /** The rows this listener serves (routes.ts `servedOn`); any other path is no route here. */
  serves: (row: RouteRow) => boolean;
  /** Resolves API keys; absent where no keyed route is served (the receiver plane). */
  authenticate?: Authenticate;
  logger: Logger;
  metrics: Metrics;
  /** The delivery log; every webhook request is recorded when given. */
  deliveries?: DeliveryRecorder;
  trustedProxies: BlockList;
  /** The shutdown's drain: responses close their connections once it has begun. */
  drain: Drain;
}

/** One listener's HTTP surface, composed like Koa's own examples: timing, the error envelope, the table's router. */
export function createApp(deps: AppDeps): Koa<RequestState> {
  const app = new Koa<RequestState>();
  // Errors are rendered and logged by errorMiddleware; Koa's default handler would log them twice.
  app.silent = true;

  const { deliveries } = deps;
  const router = tableRouter(deps.handlers, authorizeWith(deps.authenticate ?? noKeys), deps.serves);
  app.use(deps.drain.middleware());
  app.use(
    webhookTiming(deps.metrics, deliveries && ((ctx, source, latencyMs) => deliveries.record(deliveryRecord(ctx, source, latencyMs, deps.trustedProxies)))),
  );
  app.use(errorMiddleware(deps.logger, deps.metrics));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** Where no keyed route is served, no key is ever valid. */
const noKeys: Authenticate = async () => undefined;
