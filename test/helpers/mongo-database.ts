import { randomBytes } from 'node:crypto';

/** MONGODB_URI (exported by `npm test` / `npm run infra -- up mongo`) with a fresh database name. */
export function freshMongoUri(prefix = 'tw_test'): string {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('MONGODB_URI is not set: run `npm run infra -- up mongo` and export what it prints');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.toString();
}
