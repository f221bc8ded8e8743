import { envReader } from './env.js';

const MIB = 1024 * 1024;
/** The largest body a source may accept (the source spec's max_body_bytes bound): the budget must fit one. */
const LARGEST_BODY_BYTES = 10 * MIB;

/**
 * The caps on what clients can hold of a process (docs/configuration.md, "Limits"): connections,
 * request bodies being read, what a refused body may still cost, and log streams.
 */
export interface LimitSettings {
  /** `TW_MAX_CONNECTIONS` (default 1000): open connections per listener; more are closed as they arrive. */
  maxConnections: number;
  /** `TW_MAX_BODY_BYTES_IN_FLIGHT` (default 64 MiB): webhook body bytes being read or held, across all requests; more answer 503. */
  maxBodyBytesInFlight: number;
  /** What a refused body may still cost: it is read and thrown away so the sender sees the answer, then the connection is closed. */
  discard: {
    /** `TW_DISCARD_MAX_BYTES` (default 32 MiB). */
    maxBytes: number;
    /** `TW_DISCARD_MAX_MS` (default 5000). */
    maxMs: number;
  };
  /** `GET /api/logs?follow=true` streams. */
  follow: {
    /** `TW_FOLLOW_STREAMS_PER_KEY` (default 4): open streams per API key. */
    perKey: number;
    /** `TW_FOLLOW_STREAMS_MAX` (default 64): open streams per process. */
    total: number;
    /** `TW_FOLLOW_IDLE_SECONDS` (default 1800): a stream with no delivery to send for this long is ended. */
    idleSeconds: number;
    /** `TW_FOLLOW_BACKLOG_BYTES` (default 1 MiB): a stream whose reader lets this much pile up unread is dropped. */
    backlogBytes: number;
  };
}

export function loadLimitSettings(env: NodeJS.ProcessEnv): LimitSettings {
  const read = envReader(env);
  return {
    maxConnections: read.integer('TW_MAX_CONNECTIONS', 1000, 1, 1_000_000),
    maxBodyBytesInFlight: read.integer('TW_MAX_BODY_BYTES_IN_FLIGHT', 64 * MIB, LARGEST_BODY_BYTES, 16 * 1024 * MIB),
    discard: {
      maxBytes: read.integer('TW_DISCARD_MAX_BYTES', 32 * MIB, 0, 1024 * MIB),
      maxMs: read.integer('TW_DISCARD_MAX_MS', 5_000, 0, 600_000),
    },
    follow: {
      perKey: read.integer('TW_FOLLOW_STREAMS_PER_KEY', 4, 1, 10_000),
      total: read.integer('TW_FOLLOW_STREAMS_MAX', 64, 1, 100_000),
      idleSeconds: read.integer('TW_FOLLOW_IDLE_SECONDS', 1800, 1, 7 * 86_400),
      backlogBytes: read.integer('TW_FOLLOW_BACKLOG_BYTES', MIB, 16 * 1024, 1024 * MIB),
    },
  };
}
