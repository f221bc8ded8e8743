import type { ApiKeyStore } from '../apikeys/api-key.js';
import type { RegisteredSourceStore } from '../sources/registered-source.js';
import type { DeliveryLogStore, InboxStore, IncidentStore, TriageOutboxStore } from '../incidents/ports.js';

/** The whole persistence port. Two implementations: embedded (SQLite) and MongoDB, one contract suite. */
export interface Store extends IncidentStore {
  readonly kind: 'embedded' | 'mongodb';
  readonly inbox: InboxStore;
  readonly triage: TriageOutboxStore;
  readonly deliveries: DeliveryLogStore;
  readonly apiKeys: ApiKeyStore;
  /** Sources registered through the API (not the file's, nor the cluster's). */
  readonly registeredSources: RegisteredSourceStore;
  /** Opens connections and creates schema/indexes. */
  open(): Promise<void>;
  /** true while writes can be acknowledged (drives /readyz). */
  healthy(): boolean;
  close(): Promise<void>;
}
