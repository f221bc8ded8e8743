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
  /** What a request for a known source may cost before its signature is checked (see http/sender-limits.ts). */
  senders: {
    /** `TW_PREREAD_RATE_FACTOR` (default 4): a rate-limited source's pre-read bucket, in multiples of its rate_limit. */
    preReadFactor: number;
    /** `TW_ADDRESS_FAILURES_BURST` (default 10) and `TW_ADDRESS_FAILURES_PER_MINUTE` (default 6): failed verifications per client address. */
    addressFailures: { requestsPerSecond: number; burst: number };
    /** `TW_SOURCE_FAILURES_BURST` (default 100) and `TW_SOURCE_FAILURES_PER_MINUTE` (default 600): per source, from addresses it does not know. */
    sourceFailures: { requestsPerSecond: number; burst: number };
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
    senders: {
      preReadFactor: read.integer('TW_PREREAD_RATE_FACTOR', 4, 1, 1000),
      addressFailures: {
        burst: read.integer('TW_ADDRESS_FAILURES_BURST', 10, 1, 1_000_000),
        requestsPerSecond: read.integer('TW_ADDRESS_FAILURES_PER_MINUTE', 6, 1, 6_000_000) / 60,
      },
      sourceFailures: {
        burst: read.integer('TW_SOURCE_FAILURES_BURST', 100, 1, 1_000_000),
        requestsPerSecond: read.integer('TW_SOURCE_FAILURES_PER_MINUTE', 600, 1, 60_000_000) / 60,
      },
    },
    follow: {
      perKey: read.integer('TW_FOLLOW_STREAMS_PER_KEY', 4, 1, 10_000),
      total: read.integer('TW_FOLLOW_STREAMS_MAX', 64, 1, 100_000),
      idleSeconds: read.integer('TW_FOLLOW_IDLE_SECONDS', 1800, 1, 7 * 86_400),
      backlogBytes: read.integer('TW_FOLLOW_BACKLOG_BYTES', MIB, 16 * 1024, 1024 * MIB),
    },
  };
}
