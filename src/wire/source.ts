import type { Source } from '../sources/source.js';

/** A source as the API shows it: the config file's keys, never a secret (only how many are active). */
export function sourceJson(source: Source) {
  return {
    source: source.name,
    origin: source.origin,
    webhook_path: `/api/webhooks/${source.name}`,
    enabled: source.enabled,
    verification: source.verification,
    format: source.format ?? null,
    auto_triage: source.autoTriage,
    playbook: source.playbook ?? null,
    severity_mapping: source.severityMapping,
    tolerance_seconds: source.toleranceSeconds,
    max_body_bytes: source.maxBodyBytes,
    rate_limit: source.rateLimit ? { requests_per_second: source.rateLimit.requestsPerSecond, burst: source.rateLimit.burst } : null,
    processing: source.processing,
    /** 2 while a rotated-out secret is still accepted. */
    active_secrets: source.secrets.length,
  };
}
