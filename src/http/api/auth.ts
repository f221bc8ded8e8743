import { DomainError } from '../../core/errors.js';
import { grants, type Scope } from '../../apikeys/api-key.js';
import type { Principal } from '../../apikeys/authenticator.js';
import type { RequestMiddleware } from '../state.js';

/** Resolves a presented API key to who holds it (stored hashed; see ApiKeyAuthenticator). */
export type Authenticate = (token: string) => Promise<Principal | undefined>;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Admin and read routes require `Authorization: Bearer tw_…`; anything else is 401 unauthorized. */
export function requireBearer(authenticate: Authenticate): RequestMiddleware {
  return async (ctx, next) => {
    const token = BEARER.exec(ctx.get('authorization'))?.[1];
    const principal = token === undefined ? undefined : await authenticate(token);
    if (!principal) {
      throw new DomainError('unauthorized', 'A valid API key is required (Authorization: Bearer <key>)');
    }
    ctx.state.principal = principal;
    await next();
  };
}

/** A valid key without the scope a route needs is 403 forbidden (`admin` holds every scope). */
export function requireScope(scope: Scope): RequestMiddleware {
  return async (ctx, next) => {
    const principal = ctx.state.principal;
    if (!principal || !grants(principal.scopes, scope)) {
      throw new DomainError('forbidden', `This API key lacks the '${scope}' scope`);
    }
    await next();
  };
}
