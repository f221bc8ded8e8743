import type { Format, Severity } from '../incidents/model.js';
import { ok, type Result } from '../core/result.js';
import type { CompiledFilter } from '../filters/filter.js';

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
  /** CEL expressions that filter events, set their severity or add labels (docs/filters.md); compiled when the source was loaded. */
  filter: CompiledFilter | undefined;
  /** `async` answers 202 after a durable inbox write; `sync` normalizes and stores inline. */
  processing: 'sync' | 'async';
  /** false when suspended: the route answers unknown_source, like Flux's suspended receivers. */
  enabled: boolean;
  /** Days its incidents are kept, 0 for good; undefined: the global TW_RETENTION_DAYS. */
  retentionDays: number | undefined;
  /** Days its raw bodies are kept, 0 as long as the incident; undefined: the global TW_RAW_BODY_RETENTION_DAYS. */
  rawBodyRetentionDays: number | undefined;
  /** Where it was declared, e.g. `file:/etc/tw/webhook_config.yaml` or `kubernetes:ns/name`. */
  origin: string;
}

/** Why a declaration cannot be served, worded for a Kubernetes condition. */
export interface ClaimProblem {
  /** CamelCase, e.g. `SecretNotFound`, `KeyMissing`. */
  reason: string;
  message: string;
}

/**
 * A provider's declaration of one source name: the source to serve, or why it cannot be served
 * (it still claims the name). The registry gives each name to its oldest claimant.
 */
export interface SourceClaim {
  name: string;
  /** Where it was declared (see `Source.origin`). */
  origin: string;
  /**
   * When the declaration was created, in ms since the epoch (a WebhookSource's creationTimestamp).
   * Undefined for declarations without one (the file): those rank before any dated claim.
   */
  claimedAt?: number;
  source: Result<Source, ClaimProblem>;
}

/** The claim of a source that can be served. */
export function servingClaim(source: Source, claimedAt?: number): SourceClaim {
  return { name: source.name, origin: source.origin, claimedAt, source: ok(source) };
}

/** A plugin that declares sources (file, kubernetes, api). The registry merges their sets. */
export interface SourceProvider {
  /** Stable id used in conflict reports, e.g. `file`, `kubernetes`. */
  readonly id: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** true once the first complete set has been emitted. */
  synced(): boolean;
  /** Called with the provider's complete current set of claims after every change. */
  onChange(listener: (claims: readonly SourceClaim[]) => void): void;
  /**
   * Why it cannot serve everything it declares right now (readiness fails meanwhile), if it can
   * tell. A rejected edit of the file is not such a problem: the last good set still serves.
   */
  unservable?(): string | undefined;
}

/** The registry as the hot path sees it: an in-memory lookup, never I/O. */
export interface SourceLookup {
  get(name: string): Source | undefined;
}

/** What the receiver needs of the registry: the lookup, and a note of each accepted event (for the source's last event time). */
export interface ServedSources extends SourceLookup {
  /** On the hot path: a Map write. */
  recordEvent(name: string, atMs: number): void;
}
