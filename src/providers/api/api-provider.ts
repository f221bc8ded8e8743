import type { Logger } from '../../log/logger.js';
import { servingClaim, type Source, type SourceClaim, type SourceProvider } from '../../sources/source.js';
import { toSource } from '../../sources/source-spec.js';
import type { RegisteredSourceRecord, RegisteredSourceStore } from '../../sources/registered-source.js';
import { SecretOpenError, type SecretBox } from './secret-box.js';

export interface ApiSourceProviderOptions {
  store: RegisteredSourceStore;
  box: SecretBox;
  logger: Logger;
  /** How often every replica re-reads the registered sources (writes by other replicas, rotation ends). */
  refreshMs?: number;
  nowMs?: () => number;
}

export const API_ORIGIN = 'api';
const DEFAULT_REFRESH_MS = 2_000;

/**
 * Sources registered through the API, read from the store. Every replica re-reads them every two
 * seconds, and at once after a write of its own, so a registration is served everywhere within
 * seconds without any messaging between replicas. The source set is only emitted when it changed
 * (a rotated-out secret leaving counts). A store that cannot be read keeps the last set serving.
 */
export class ApiSourceProvider implements SourceProvider {
  readonly id = API_ORIGIN;
  private readonly listeners: ((claims: readonly SourceClaim[]) => void)[] = [];
  private isSynced = false;
  private timer: NodeJS.Timeout | undefined;
  private seen = '';
  private refreshing: Promise<void> | undefined;
  private readFailing = false;
  /** Registered sources whose stored secret does not open: not served, and readiness fails (see unservable()). */
  private unopened: { name: string; error: SecretOpenError }[] = [];
  private unopenedLogged = '';
  /** How many registered sources the last read found. */
  private registered = 0;
  private readonly nowMs: () => number;

  constructor(private readonly options: ApiSourceProviderOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  onChange(listener: (claims: readonly SourceClaim[]) => void): void {
    this.listeners.push(listener);
  }

  synced(): boolean {
    return this.isSynced;
  }

  unservable(): string | undefined {
    return this.unopened.length === 0 ? undefined : describeUnopened(this.unopened, this.registered);
  }

  /** Does not wait for the store, which opens after the sources: start-up calls refresh() once it is open. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? DEFAULT_REFRESH_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
  }

  /** Re-reads the store now (after a local write, so the answer reflects it); concurrent calls share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    let records: RegisteredSourceRecord[];
    try {
      records = await this.options.store.listRegisteredSources();
    } catch (error) {
      // Once per stretch of failed reads, not every two seconds (the store reports its own trouble).
      this.options.logger[this.readFailing ? 'debug' : 'warn']({ err: error }, 'registered sources could not be read; keeping the last set');
      this.readFailing = true;
      return;
    }
    this.readFailing = false;
    const now = this.nowMs();
    const active = records.map((record) => ({ record, withPrevious: previousActive(record, now) }));
    const fingerprint = JSON.stringify(active);
    if (fingerprint === this.seen && this.isSynced) return;
    this.seen = fingerprint;
    const claims: SourceClaim[] = [];
    const unopened: { name: string; error: SecretOpenError }[] = [];
    for (const { record, withPrevious } of active) {
      const source = this.toSource(record, withPrevious);
      // Dated by registration, so an older claim elsewhere (the file, an older WebhookSource) keeps the name.
      if (source instanceof SecretOpenError) unopened.push({ name: record.name, error: source });
      else claims.push(servingClaim(source, Date.parse(record.createdAt)));
    }
    this.unopened = unopened;
    this.registered = records.length;
    this.logUnopened();
    this.isSynced = true;
    for (const listener of this.listeners) listener(claims);
  }

  private toSource(record: RegisteredSourceRecord, withPrevious: boolean): Source | SecretOpenError {
    try {
      const secrets = [this.options.box.open(record.secret, record.name)];
      if (withPrevious && record.previousSecret !== null) secrets.push(this.options.box.open(record.previousSecret, record.name));
      return toSource({ name: record.name, origin: API_ORIGIN, spec: record.spec, secrets });
    } catch (error) {
      if (error instanceof SecretOpenError) return error;
      throw error;
    }
  }

  /** One error line per change of what does not open (not one per source, nor one every two seconds). */
  private logUnopened(): void {
    const fingerprint = this.unopened.map(({ name, error }) => `${name}:${error.failure}`).join(',');
    if (fingerprint === this.unopenedLogged) return;
    this.unopenedLogged = fingerprint;
    if (this.unopened.length === 0) return void this.options.logger.info('every registered source opens again');
    this.options.logger.error({ sources: this.unopened.map(({ name }) => name) }, `${this.unservable()}; see docs/security.md ("Secrets at rest")`);
  }
}

/** The readiness reason: a key that opens none of several secrets is named as the wrong key, the rest by what failed. */
function describeUnopened(unopened: readonly { name: string; error: SecretOpenError }[], total: number): string {
  const failures = new Set(unopened.map(({ error }) => error.failure));
  const count = `${unopened.length} of ${total} registered sources`;
  if (failures.has('no_key')) return `TW_ENCRYPTION_KEY is not set, so the secrets of ${count} cannot be opened`;
  if (unopened.length === total && failures.size === 1 && failures.has('wrong_key_or_altered')) {
    return `the encryption key opens none of the stored secrets (${count}): it is not the key they were sealed with`;
  }
  return `the stored secrets of ${count} do not open (${[...failures].join(', ')}): ${unopened.map(({ name }) => name).join(', ')}`;
}

function previousActive(record: RegisteredSourceRecord, nowMs: number): boolean {
  return record.previousSecret !== null && record.previousSecretExpiresAt !== null && Date.parse(record.previousSecretExpiresAt) > nowMs;
}
