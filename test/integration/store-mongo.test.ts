/** The store and pipeline contracts against the real MongoDB-wire server of `npm run infra` (FerretDB). */
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { Store } from '../../src/store/store.js';
import { storeContract } from '../helpers/store-contract.js';
import { pipelineContract } from '../helpers/pipeline-contract.js';
import { freshMongoUri } from '../helpers/mongo-database.js';

const uris = new WeakMap<Store, string>();

async function openMongo(uri: string): Promise<MongoStore> {
  const store = new MongoStore({ uri, writeConcern: 'majority', maxPoolSize: 20, deliveryRetentionSeconds: 3600 });
  await store.open();
  uris.set(store, uri);
  return store;
}

const factory = {
  openStore: () => openMongo(freshMongoUri()),
  reopen: (store: Store) => openMongo(uris.get(store)!),
};

storeContract('MongoDB', factory);
pipelineContract('MongoDB', factory);
