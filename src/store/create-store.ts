import type { Logger } from '../log/logger.js';
import type { Settings } from '../config/settings.js';
import type { PipelineSettings } from '../config/pipeline-settings.js';
import type { Store, StoreFaultListener } from './store.js';
import { EmbeddedStore } from './embedded/embedded-store.js';

/**
 * MongoDB when MONGODB_URI is set, else the embedded store under TW_DATA_DIR. The MongoDB driver is
 * loaded only when used: it is a quarter of the embedded service's resident memory at start.
 */
export async function createStore(settings: Settings, pipeline: PipelineSettings, logger: Logger, onFault: StoreFaultListener): Promise<Store> {
  if (settings.mongodbUri) {
    const [{ MongoStore }, { databaseName }] = await Promise.all([import('./mongo/mongo-store.js'), import('./mongo/connection.js')]);
    logger.info({ database: databaseName(settings.mongodbUri), writeConcern: pipeline.mongo.writeConcern }, 'using the MongoDB store');
    return new MongoStore({
      uri: settings.mongodbUri,
      ...pipeline.mongo,
      deliveryRetentionSeconds: pipeline.deliveries.retentionHours * 3600,
      logger,
      onFault,
    });
  }
  logger.info({ dataDir: settings.dataDir }, 'using the embedded store');
  return new EmbeddedStore(settings.dataDir, { onFault, logger });
}
