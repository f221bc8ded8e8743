import { MongoClient, type MongoClientOptions, type TopologyDescriptionChangedEvent } from 'mongodb';

const DEFAULT_DATABASE = 'tw_webhooks';

export interface MongoConnectionSettings {
  uri: string;
  writeConcern: 'majority' | number;
  maxPoolSize: number;
}

/**
 * Timeouts are chosen so an outage becomes a quick `503 unavailable` instead of hanging senders,
 * and so recovery is noticed within about a second:
 * - serverSelectionTimeoutMS 2.5 s: how long an operation waits for a usable server (the 503 delay
 *   while the database is down);
 * - connectTimeoutMS 2 s, socketTimeoutMS 10 s: a silent socket (hung server, dropped route) fails
 *   the operation instead of holding the request until the sender gives up;
 * - heartbeatFrequencyMS 1 s: how fast monitoring sees the server leave and come back (/readyz);
 * - maxPoolSize (default 50, one per concurrent sender at the benchmark load) with
 *   waitQueueTimeoutMS 2.5 s, so pool exhaustion is a 503 too rather than an unbounded queue.
 * Writes are acknowledged by `writeConcern` members (default majority) and journaled.
 */
export function createClient(settings: MongoConnectionSettings): MongoClient {
  const options: MongoClientOptions = {
    appName: 'tw-webhooks',
    serverSelectionTimeoutMS: 2_500,
    connectTimeoutMS: 2_000,
    socketTimeoutMS: 10_000,
    heartbeatFrequencyMS: 1_000,
    maxPoolSize: settings.maxPoolSize,
    waitQueueTimeoutMS: 2_500,
    writeConcern: { w: settings.writeConcern, journal: settings.writeConcern !== 0 },
  };
  return new MongoClient(settings.uri, options);
}

/** The database named in the URI's path (`mongodb://host/<db>?…`), else `tw_webhooks`. */
export function databaseName(uri: string): string {
  const afterScheme = uri.slice(uri.indexOf('://') + 3);
  const slash = afterScheme.indexOf('/');
  if (slash < 0) return DEFAULT_DATABASE;
  const name = decodeURIComponent(afterScheme.slice(slash + 1).split('?')[0] ?? '');
  return name === '' ? DEFAULT_DATABASE : name;
}

/** Follows the driver's server monitoring: up while some server can take writes. */
export class WritableServerWatch {
  private writable = false;

  constructor(client: MongoClient) {
    client.on('topologyDescriptionChanged', (event: TopologyDescriptionChangedEvent) => {
      this.writable = [...event.newDescription.servers.values()].some((server) => server.isWritable);
    });
  }

  get up(): boolean {
    return this.writable;
  }
}
