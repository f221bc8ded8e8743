import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEncryptionKey } from '../../config/operator-settings.js';

const KEY_FILE = 'encryption.key';

export interface DataDirKey {
  key: Buffer;
  path: string;
  /** Made by this start (the first with this data directory). */
  created: boolean;
  /** Readable or writable by group or others: the file holds what opens every registered secret. */
  exposed: boolean;
}

/**
 * The embedded store's own key for registered secrets when TW_ENCRYPTION_KEY is not set, so
 * `tw-cli webhook add` works right after `npm start` and secrets are still encrypted at rest:
 * 32 random bytes as hex in `<dataDir>/encryption.key`, made once with mode 0600 (exclusively, so
 * two starts cannot each write one) and read on every later start. It belongs with the data: a
 * backup of one without the other cannot open the registered secrets.
 */
export async function dataDirKey(dataDir: string): Promise<DataDirKey> {
  const path = join(dataDir, KEY_FILE);
  let created = true;
  try {
    await writeFile(path, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  }
  const key = parseEncryptionKey((await readFile(path, 'utf8')).trim(), path);
  return { key, path, created, exposed: ((await stat(path)).mode & 0o077) !== 0 };
}
