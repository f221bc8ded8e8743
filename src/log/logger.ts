import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** pino's types, so that only this folder depends on pino itself. */
export type { Logger, LevelWithSilent } from 'pino';

/**
 * pino JSON to stdout (or to `destination`: a test reading a service it runs in-process). Secrets
 * and signatures are redacted wherever they might be attached, as a guard: the code never logs
 * headers or sources whole in the first place.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'tw-webhooks' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'secret',
        'secrets',
        'previousSecret',
        '*.secret',
        '*.secrets',
        '*.previousSecret',
        'headers.authorization',
        'headers["x-webhook-signature"]',
        'headers["webhook-signature"]',
        'headers["svix-signature"]',
        'headers["x-hub-signature-256"]',
        'headers["x-webhook-token"]',
        '*.headers.authorization',
        '*.headers["x-webhook-signature"]',
        '*.headers["webhook-signature"]',
        '*.headers["svix-signature"]',
        '*.headers["x-hub-signature-256"]',
        '*.headers["x-webhook-token"]',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
