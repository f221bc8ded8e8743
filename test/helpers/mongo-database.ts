import { mongoFromEnv } from './servers.js';

/** The test server's URI with a database no other test uses in its path, as MONGODB_URI takes it. */
export function freshMongoUri(prefix = 'tw_test'): string {
  const { uri, database } = mongoFromEnv(prefix);
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Both stores, as the service env that selects each (a fresh MongoDB database per call). */
export function storeEnvs(prefix: string): [kind: string, env: () => Record<string, string>][] {
  return [
    ['embedded', () => ({})],
    ['MongoDB', () => ({ MONGODB_URI: freshMongoUri(prefix) })],
  ];
}
