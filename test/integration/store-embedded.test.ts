import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import type { Store } from '../../src/store/store.js';
import { storeContract } from '../helpers/store-contract.js';
import { pipelineContract } from '../helpers/pipeline-contract.js';

const dirs = new WeakMap<Store, string>();

storeContract('embedded (SQLite)', {
  async openStore() {
    const dir = mkdtempSync(join(tmpdir(), 'tw-store-'));
    const store = new EmbeddedStore(dir);
    await store.open();
    dirs.set(store, dir);
    return store;
  },
  async reopen(store) {
    const again = new EmbeddedStore(dirs.get(store)!);
    await again.open();
    return again;
  },
});

pipelineContract('embedded (SQLite)', {
  async openStore() {
    const store = new EmbeddedStore(mkdtempSync(join(tmpdir(), 'tw-store-')));
    await store.open();
    return store;
  },
});
