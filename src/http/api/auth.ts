import { DomainError } from '../../core/errors.js';
import type { RequestMiddleware } from '../state.js';

/** Checks a presented API key (stored hashed, compared in constant time by the caller's function). */
export type TokenCheck = (token: string) => boolean;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Admin and read routes require `Authorization: Bearer tw_…`; anything else is 401 unauthorized. */
export function requireBearer(tokenMatches: TokenCheck): RequestMiddleware {
  return async (ctx, next) => {
    const token = BEARER.exec(ctx.get('authorization'))?.[1];
    if (!token || !tokenMatches(token)) {
      throw new DomainError('unauthorized', 'A valid API key is required (Authorization: Bearer <key>)');
    }
    await next();
  };
}
