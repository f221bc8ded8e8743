import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { operatorStoreContract } from '../helpers/operator-store-contract.js';

operatorStoreContract('embedded (SQLite)', {
  async openStore() {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')));
    await store.open();
    return store;
  },
});
