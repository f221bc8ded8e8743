import type { Format, Severity } from '../incidents/model.js';

/** How a source proves a request came from it (docs/api.md, verification profiles). Unsigned is never an option. */
export const VERIFICATION_PROFILES = ['hmac-sha256', 'standard-webhooks', 'hmac-body', 'token'] as const;
export type VerificationProfile = (typeof VERIFICATION_PROFILES)[number];

export interface RateLimit {
  /** Sustained authenticated requests per second. */
  requestsPerSecond: number;
  /** Bucket size: requests allowed in a burst above the sustained rate. */
  burst: number;
}

/** A registered webhook source as every provider produces it. Immutable once built. */
export interface Source {
  name: string;
  /** Active secrets, current first then previous (receiver-side rotation). Never logged. */
  secrets: readonly Buffer[];
  verification: VerificationProfile;
  /** Pinned payload format; undefined means detect structurally. */
  format: Format | undefined;
  autoTriage: boolean;
  playbook: string | undefined;
  /** Lower-cased vendor severity → our severity; consulted before the built-in tables. */
  severityMapping: Readonly<Record<string, Severity>>;
  toleranceSeconds: number;
  maxBodyBytes: number;
  rateLimit: RateLimit | undefined;
  /** `async` answers 202 after a durable inbox write; `sync` normalizes and stores inline. */
  processing: 'sync' | 'async';
  /** false when suspended: the route answers unknown_source, like Flux's suspended receivers. */
  enabled: boolean;
  /** Where it was declared, e.g. `file:/etc/tw/webhook_config.yaml` or `kubernetes:ns/name`. */
  origin: string;
}

export const SOURCE_DEFAULTS = {
  verification: 'hmac-sha256',
  toleranceSeconds: 300,
  maxBodyBytes: 1024 * 1024,
  processing: 'sync',
} as const satisfies Partial<Source>;

/** A plugin that declares sources (file, kubernetes, api). The registry merges their sets. */
export interface SourceProvider {
  /** Stable id used in conflict reports, e.g. `file`, `kubernetes`. */
  readonly id: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** true once the first complete set has been emitted. */
  synced(): boolean;
  /** Called with the provider's complete current set after every change. */
  onChange(listener: (sources: readonly Source[]) => void): void;
}

/** The registry as the hot path sees it: an in-memory lookup, never I/O. */
export interface SourceLookup {
  get(name: string): Source | undefined;
}
