export interface StartupWarning {
  message: string;
  fields: Record<string, unknown>;
}

export interface StartupFacts {
  apiKeys: number;
  sources: readonly { name: string; autoTriage: boolean }[];
  triageRunnerConfigured: boolean;
  /** The registration API keeps secrets in the store, and TW_ENCRYPTION_KEY is not set. */
  registrationWithoutEncryptionKey: boolean;
}

/** What a user most likely did not mean, said once at start-up (the service runs anyway). */
export function startupWarnings(facts: StartupFacts): StartupWarning[] {
  const warnings: StartupWarning[] = [];
  if (facts.apiKeys === 0) {
    warnings.push({ message: 'no API key configured (TW_API_TOKEN): every /api read answers 401', fields: {} });
  }
  if (facts.sources.length === 0) {
    warnings.push({ message: 'no webhook source is registered: every delivery answers 404 unknown_source', fields: {} });
  }
  const autoTriage = facts.sources.filter((source) => source.autoTriage).map((source) => source.name);
  if (autoTriage.length > 0 && !facts.triageRunnerConfigured) {
    warnings.push({
      message: 'auto_triage sources but no triage runner configured (TW_TRIAGE_URL, TW_TRIAGE_SECRET): triage requests stay pending',
      fields: { sources: autoTriage },
    });
  }
  if (facts.registrationWithoutEncryptionKey) {
    warnings.push({
      message: 'TW_ENCRYPTION_KEY is not set: the registration API stores secrets only with the embedded store in development mode (TW_DEV_MODE=true)',
      fields: {},
    });
  }
  return warnings;
}
