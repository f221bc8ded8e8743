export interface StartupWarning {
  message: string;
  fields: Record<string, unknown>;
}

export interface StartupFacts {
  /** Bootstrap keys configured; undefined where no keyed route is served (the receiver plane). */
  apiKeys: number | undefined;
  sources: readonly { name: string; autoTriage: boolean }[];
  triageRunnerConfigured: boolean;
  /** Sources whose secret (or previous secret) is shorter than the registration API accepts (`minBytes`). */
  weakSecrets: { minBytes: number; sources: readonly string[] };
  /** The registration API keeps secrets in the store, and there is no key (MongoDB without TW_ENCRYPTION_KEY). */
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
  if (facts.weakSecrets.sources.length > 0) {
    warnings.push({
      message: `webhook sources with a secret shorter than ${facts.weakSecrets.minBytes} bytes: one captured request lets it be guessed offline; rotate to a longer one (openssl rand -hex 32)`,
      fields: { sources: facts.weakSecrets.sources },
    });
  }
  if (facts.registrationWithoutEncryptionKey) {
    warnings.push({
      message: 'TW_ENCRYPTION_KEY is not set: with MongoDB the registration API cannot store secrets (503 unavailable) until every replica has the same key',
      fields: {},
    });
  }
  return warnings;
}
