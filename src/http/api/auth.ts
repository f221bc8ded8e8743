import { DomainError } from '../../core/errors.js';
import { grants } from '../../apikeys/api-key.js';
import type { Principal } from '../../apikeys/authenticator.js';
import type { Authorize } from '../routes.js';

/** Resolves a presented API key to who holds it (stored hashed; see ApiKeyAuthenticator). */
export type Authenticate = (token: string) => Promise<Principal | undefined>;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The key of an `Authorization: Bearer <key>` header; undefined for any other header. */
export function bearerToken(authorization: string): string | undefined {
  return BEARER.exec(authorization)?.[1];
}

/**
 * The check each keyed route runs once it matched: no valid key (none, unknown, revoked, expired)
 * is 401 unauthorized, a key without the route's scope 403 forbidden (`admin` holds every scope).
 * Public and signed routes need no key.
 */
export function authorizeWith(authenticate: Authenticate): Authorize {
  return (access) => {
    if (typeof access === 'string') return undefined;
    const { scope } = access;
    return async (ctx, next) => {
      const token = bearerToken(ctx.get('authorization'));
      const principal = token === undefined ? undefined : await authenticate(token);
      if (!principal) throw new DomainError('unauthorized', 'A valid API key is required (Authorization: Bearer <key>)');
      if (!grants(principal.scopes, scope)) throw new DomainError('forbidden', `This API key lacks the '${scope}' scope`);
      ctx.state.principal = principal;
      await next();
    };
  };
}
