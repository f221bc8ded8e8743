import { ConfigError } from './config-error.js';
import { StoreDamagedError, StoreUnavailableError } from '../core/errors.js';

/** A start-up failure as one sentence a user can act on: no stack, the cause named. */
export function startupFailureMessage(error: unknown): string {
  if (error instanceof ConfigError) return `cannot start: ${error.message}`;
  if (error instanceof StoreUnavailableError) return `cannot start: the store cannot be opened: ${error.reason}`;
  // Names the file, what its check found and how to recover (see StoreDamagedError).
  if (error instanceof StoreDamagedError) return `cannot start: ${error.message}`;
  const { code, message, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (code === 'EADDRINUSE') return `cannot start: ${address ?? ''}:${port ?? ''} is already in use (set PORT to a free port)`;
  if (code === 'EACCES' && port !== undefined) return `cannot start: no permission to listen on port ${port}`;
  return `cannot start: ${message ?? String(error)}`;
}
