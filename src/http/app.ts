import type { BlockList } from 'node:net';
import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import type { Accept } from '../ingest/accept.js';
import { deliveryRecord } from './delivery-record.js';
import type { DeliveryRecorder } from '../workers/delivery-recorder.js';
import { apiHandlers, type ApiDeps } from './api/api-handlers.js';
import { authorizeWith } from './api/auth.js';
import { tableRouter } from './routes.js';
import { OPENAPI_DOCUMENT } from './api/openapi.js';
import { errorMiddleware } from './error-middleware.js';
import type { RequestState } from './state.js';
import { RateLimiter } from './rate-limit.js';
import { webhookRoute, webhookTiming } from './webhook-route.js';
import type { Drain } from './drain.js';
import type { ServedSources } from '../sources/source.js';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  sources: ServedSources & { ready(): boolean };
  store: Store;
  accept: Accept;
  /** The delivery log; every webhook request is recorded when given. */
  deliveries?: DeliveryRecorder;
  rateLimiter: RateLimiter;
  /** The `/api` routers' own dependencies (keys, registration, log feed). */
  api: Omit<ApiDeps, 'store'>;
  /** Peers whose X-Forwarded-For names the client (the delivery log's remote address). */
  trustedProxies: BlockList;
  /** The shutdown's drain: /readyz fails and connections close once it has begun. */
  drain: Drain;
  nowMs?: () => number;
}

/** The HTTP surface: webhook receiver, read API, probes and metrics, composed like Koa's own examples. */
export function createApp(deps: AppDeps): Koa<RequestState> {
  const app = new Koa<RequestState>();
  // Errors are rendered and logged by errorMiddleware; Koa's default handler would log them twice.
  app.silent = true;

  const { deliveries } = deps;
  const router = tableRouter(
    {
      healthz: (ctx) => {
        ctx.body = { status: 'ok' };
      },
      readyz: (ctx) => {
        const store = deps.store.health();
        const checks = { sources: deps.sources.ready(), store: store.healthy };
        const { draining } = deps.drain;
        const ready = checks.sources && checks.store && !draining;
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? 'ready' : 'not_ready', checks, ...(!store.healthy && { store_error: store.reason }), ...(draining && { draining }) };
      },
      // The API's description, public like the docs it mirrors.
      openapi: (ctx) => {
        ctx.body = OPENAPI_DOCUMENT;
      },
      metrics: async (ctx) => {
        ctx.type = deps.metrics.registry.contentType;
        ctx.body = await deps.metrics.registry.metrics();
      },
      'webhooks.receive': webhookRoute({
        sources: deps.sources,
        accept: deps.accept,
        rateLimiter: deps.rateLimiter,
        metrics: deps.metrics,
        logger: deps.logger,
        nowMs: deps.nowMs ?? Date.now,
      }),
      ...apiHandlers({ ...deps.api, store: deps.store }),
    },
    authorizeWith(deps.api.authenticate),
  );

  app.use(deps.drain.middleware());
  app.use(
    webhookTiming(deps.metrics, deliveries && ((ctx, source, latencyMs) => deliveries.record(deliveryRecord(ctx, source, latencyMs, deps.trustedProxies)))),
  );
  app.use(errorMiddleware(deps.logger, deps.metrics));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
