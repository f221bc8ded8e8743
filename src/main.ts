#!/usr/bin/env node
/** The service's entry point: start, stop on SIGTERM/SIGINT, and make a failed start one clear log line. */
import { start } from './start.js';
import { createLogger } from './log/logger.js';
import { startupFailureMessage } from './config/startup-failure.js';

try {
  const service = await start({ env: process.env });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        service.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
} catch (error) {
  // The settings may be what failed, so this logger uses the default level.
  createLogger('info').fatal({ code: (error as NodeJS.ErrnoException).code }, startupFailureMessage(error));
  process.exit(1);
}
