/** The operator store contract against the real MongoDB-wire server of `npm run infra` (FerretDB). */
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { operatorStoreContract } from '../helpers/operator-store-contract.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

operatorStoreContract('MongoDB', {
  async openStore() {
    const store = new MongoStore({ uri: freshMongoUri(), writeConcern: 'majority', maxPoolSize: 5, deliveryRetentionSeconds: 3600 });
    await store.open();
    return store;
  },
});
