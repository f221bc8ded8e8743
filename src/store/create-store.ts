import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import type { PipelineSettings } from '../config/pipeline-settings.js';
import type { Store } from './store.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import { MongoStore } from './mongo/mongo-store.js';
import { databaseName } from './mongo/connection.js';

/** MongoDB when MONGODB_URI is set, else the embedded store under TW_DATA_DIR. */
export function createStore(settings: Settings, pipeline: PipelineSettings, logger: Logger): Store {
  if (settings.mongodbUri) {
    logger.info({ database: databaseName(settings.mongodbUri), writeConcern: pipeline.mongo.writeConcern }, 'using the MongoDB store');
    return new MongoStore({
      uri: settings.mongodbUri,
      ...pipeline.mongo,
      deliveryRetentionSeconds: pipeline.deliveries.retentionHours * 3600,
      logger,
    });
  }
  logger.info({ dataDir: settings.dataDir }, 'using the embedded store');
  return new EmbeddedStore(settings.dataDir);
}
