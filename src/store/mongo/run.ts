/** How the store's parts run a database operation (readiness check + error mapping, see MongoStore). */
export type RunOperation = <T>(operation: () => Promise<T>) => Promise<T>;
