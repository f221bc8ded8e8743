import type { Middleware, ParameterizedContext } from 'koa';
import type { ErrorCode } from '../core/errors.js';
import type { Principal } from '../apikeys/authenticator.js';

/**
 * What a request leaves on `ctx.state` for the middleware around it: the webhook route names the
 * source and the outcome, the error middleware the code; timing and the delivery log read them.
 */
export interface RequestState {
  /** Metric label of a webhook request: a registered source or `_unknown`; unset on other routes. */
  sourceLabel?: string;
  /** The client's address as the delivery log records it (see client-address.ts), once the webhook route read it. */
  clientAddress?: string | null;
  incidentId?: string;
  incidentNumber?: string;
  queueId?: string;
  /** The source's filter filtered the delivery out (200 `filtered`). */
  filtered?: boolean;
  errorCode?: ErrorCode;
  /** The API key of an `/api` request, once authenticated. */
  principal?: Principal;
}

export type RequestContext = ParameterizedContext<RequestState>;
export type RequestMiddleware = Middleware<RequestState>;
