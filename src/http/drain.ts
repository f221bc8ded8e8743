import type { Server } from 'node:http';
import type { RequestMiddleware } from './state.js';

/**
 * A replica's way out of a rollout without errors. Endpoints (kube-proxy, an ingress) only stop
 * sending to a pod once its readiness probe has failed and the change has spread, so on SIGTERM the
 * replica first fails /readyz while it keeps serving for the drain delay; every response meanwhile
 * says `Connection: close`, so a kept-alive client opens its next connection through the balancer,
 * to another replica. Only then does the listener close, and what is in flight gets the grace period.
 */
export class Drain {
  private started = false;

  /** True from the start of the drain: /readyz fails, responses close their connections. */
  get draining(): boolean {
    return this.started;
  }

  /** From now on /readyz fails and every response closes its connection; serving goes on. */
  begin(): void {
    this.started = true;
  }

  /** Outermost, so error answers close their connections too. */
  middleware(): RequestMiddleware {
    return async (ctx, next) => {
      try {
        await next();
      } finally {
        // Read after the handler: a request that was in flight when the drain began closes too.
        if (this.started && !ctx.headerSent) ctx.set('Connection', 'close');
      }
    };
  }
}

/**
 * Stops accepting and resolves once the requests in flight are answered; connections still busy
 * after `graceMs` are cut (their senders retry what was not acknowledged).
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), graceMs);
  return closed.finally(() => clearTimeout(grace));
}
