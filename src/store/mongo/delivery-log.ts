import type { Collection, ObjectId } from 'mongodb';
import type { DeliveryLogStore, DeliveryRecord } from '../../incidents/ports.js';
import type { RunOperation } from './run.js';

/** `at` is a BSON date so the TTL index can expire it. */
export interface DeliveryDocument extends Omit<DeliveryRecord, 'at'> {
  _id?: ObjectId;
  at: Date;
}

export class MongoDeliveryLog implements DeliveryLogStore {
  constructor(
    private readonly deliveries: Collection<DeliveryDocument>,
    private readonly run: RunOperation,
  ) {}

  appendDeliveries(records: readonly DeliveryRecord[]): Promise<void> {
    return this.run(async () => {
      // Unordered: one rejected record does not stop the rest of the batch.
      await this.deliveries.insertMany(
        records.map((record) => ({ ...record, at: new Date(record.at) })),
        { ordered: false },
      );
    });
  }

  listDeliveries(query: { source?: string; limit: number }): Promise<DeliveryRecord[]> {
    return this.run(async () => {
      const documents = await this.deliveries
        .find(query.source === undefined ? {} : { source: query.source })
        .sort({ at: -1, _id: -1 })
        .limit(query.limit)
        .toArray();
      // Records written before incidentNumber existed have none.
      return documents.map(({ _id, at, ...record }) => ({ ...record, incidentNumber: record.incidentNumber ?? null, at: at.toISOString() }));
    });
  }

  pruneDeliveries(before: string): Promise<number> {
    return this.run(async () => (await this.deliveries.deleteMany({ at: { $lt: new Date(before) } })).deletedCount);
  }
}
