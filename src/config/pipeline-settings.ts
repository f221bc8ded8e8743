import { ConfigError } from './config-error.js';
import { envReader } from './env.js';

/**
 * Settings of what runs behind the receiver: the MongoDB store, the inbox workers, the triage
 * dispatcher and the delivery log. Read from the environment once at start-up, like settings.ts.
 */
export interface PipelineSettings {
  mongo: {
    /** `TW_MONGODB_WRITE_CONCERN`: `majority` (default) or a number of members; journaled unless 0. */
    writeConcern: 'majority' | number;
    /** `TW_MONGODB_MAX_POOL_SIZE` (default 50): connections per replica. */
    maxPoolSize: number;
  };
  queue: {
    /** `TW_INLINE_BUDGET_MS` (default 2000, 0 = never): a sync request slower than this is answered 202 queued. */
    inlineBudgetMs: number;
    /** `TW_QUEUE_LEASE_MS` (default 30000): how long a claimed entry stays with its worker. */
    leaseMs: number;
    /** `TW_QUEUE_MAX_ATTEMPTS` (default 5): claims before an entry is dead-lettered. */
    maxAttempts: number;
    /** `TW_QUEUE_RETRY_BASE_MS` (default 1000): first retry delay, doubled per attempt (with jitter). */
    retryBaseMs: number;
    /** `TW_QUEUE_CONCURRENCY` (default 4): entries a replica processes at once. */
    concurrency: number;
    /** `TW_QUEUE_POLL_MS` (default 500): how often an idle worker looks for due entries. */
    pollMs: number;
    /** `TW_QUEUE_RETENTION_HOURS` (default 168 = 7 days): how long done and dead entries stay readable. */
    retentionHours: number;
  };
  triage: {
    /** `TW_TRIAGE_URL`: the playbook runner; unset = requests wait (listable) until one is configured. */
    url: string | undefined;
    /** `TW_TRIAGE_SECRET`: HMAC key for the requests we send; required with TW_TRIAGE_URL. */
    secret: string | undefined;
    /** `TW_TRIAGE_MAX_ATTEMPTS` (default 10): delivery attempts before a request is `failed`. */
    maxAttempts: number;
    /** `TW_TRIAGE_RETRY_BASE_MS` (default 1000): first retry delay, doubled per attempt up to 5 min. */
    retryBaseMs: number;
    /** `TW_TRIAGE_TIMEOUT_MS` (default 10000): per POST. */
    timeoutMs: number;
    /** `TW_TRIAGE_POLL_MS` (default 1000). */
    pollMs: number;
    /** `TW_TRIAGE_FORMAT`: `native` (default) posts our request envelope, `ocsf` the incident as an OCSF Detection Finding. */
    format: TriageFormat;
  };
  deliveries: {
    /** `TW_DELIVERY_RETENTION_HOURS` (default 168 = 7 days). */
    retentionHours: number;
  };
}

const TRIAGE_FORMATS = ['native', 'ocsf'] as const;
export type TriageFormat = (typeof TRIAGE_FORMATS)[number];

export function loadPipelineSettings(env: NodeJS.ProcessEnv): PipelineSettings {
  const { string: read, integer: int, oneOf } = envReader(env);
  const writeConcern = read('TW_MONGODB_WRITE_CONCERN') ?? 'majority';
  const triageUrl = read('TW_TRIAGE_URL');
  const triageSecret = read('TW_TRIAGE_SECRET');
  if (triageUrl !== undefined) {
    if (!URL.canParse(triageUrl) || !/^https?:$/.test(new URL(triageUrl).protocol)) {
      throw new ConfigError(`TW_TRIAGE_URL must be an http(s) URL, got '${triageUrl}'`);
    }
    if (triageSecret === undefined) throw new ConfigError('TW_TRIAGE_SECRET is required when TW_TRIAGE_URL is set');
  }
  return {
    mongo: {
      writeConcern: writeConcern === 'majority' ? 'majority' : int('TW_MONGODB_WRITE_CONCERN', 1, 0, 50),
      maxPoolSize: int('TW_MONGODB_MAX_POOL_SIZE', 50, 1, 1000),
    },
    queue: {
      inlineBudgetMs: int('TW_INLINE_BUDGET_MS', 2000, 0, 600_000),
      leaseMs: int('TW_QUEUE_LEASE_MS', 30_000, 100, 3_600_000),
      maxAttempts: int('TW_QUEUE_MAX_ATTEMPTS', 5, 1, 100),
      retryBaseMs: int('TW_QUEUE_RETRY_BASE_MS', 1000, 1, 3_600_000),
      concurrency: int('TW_QUEUE_CONCURRENCY', 4, 1, 64),
      pollMs: int('TW_QUEUE_POLL_MS', 500, 10, 60_000),
      retentionHours: int('TW_QUEUE_RETENTION_HOURS', 168, 1, 24 * 366),
    },
    triage: {
      url: triageUrl,
      secret: triageSecret,
      maxAttempts: int('TW_TRIAGE_MAX_ATTEMPTS', 10, 1, 100),
      retryBaseMs: int('TW_TRIAGE_RETRY_BASE_MS', 1000, 1, 3_600_000),
      timeoutMs: int('TW_TRIAGE_TIMEOUT_MS', 10_000, 100, 600_000),
      pollMs: int('TW_TRIAGE_POLL_MS', 1000, 10, 60_000),
      format: oneOf('TW_TRIAGE_FORMAT', 'native', TRIAGE_FORMATS),
    },
    deliveries: { retentionHours: int('TW_DELIVERY_RETENTION_HOURS', 168, 1, 24 * 366) },
  };
}
