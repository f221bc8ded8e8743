import type { Source } from '../../src/sources/source.js';
import { SOURCE_DEFAULTS } from '../../src/sources/source-spec.js';

/** A source with the defaults a config file without optional keys would give, for unit tests. */
export function testSource(overrides: Partial<Source> & { name: string }): Source {
  return {
    secrets: [Buffer.from('secret')],
    verification: SOURCE_DEFAULTS.verification,
    format: undefined,
    autoTriage: false,
    playbook: undefined,
    severityMapping: {},
    toleranceSeconds: SOURCE_DEFAULTS.toleranceSeconds,
    maxBodyBytes: SOURCE_DEFAULTS.maxBodyBytes,
    rateLimit: undefined,
    processing: SOURCE_DEFAULTS.processing,
    filter: undefined,
    enabled: true,
    retentionDays: undefined,
    rawBodyRetentionDays: undefined,
    origin: 'test',
    ...overrides,
  };
}
