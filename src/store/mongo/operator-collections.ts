import type { Collection } from 'mongodb';
import type { ApiKeyRecord, ApiKeyStore } from '../../apikeys/api-key.js';
import type { RegisteredSourceRecord, RegisteredSourceStore } from '../../sources/registered-source.js';
import type { AuditRecord, AuditStore } from '../../audit/audit.js';
import { isDuplicateKey } from './errors.js';
import type { RunOperation } from './run.js';

/** `_id` is the key id; `hash` has a unique index (see indexes.ts). */
export type ApiKeyDocument = ApiKeyRecord & { _id: string };
/** `_id` is the source name. */
export type RegisteredSourceDocument = RegisteredSourceRecord & { _id: string };
/** `_id` is the record id; `at` and `target` are indexed (see indexes.ts). */
export type AuditDocument = AuditRecord & { _id: string };

export class MongoApiKeys implements ApiKeyStore {
  constructor(
    private readonly keys: Collection<ApiKeyDocument>,
    private readonly run: RunOperation,
  ) {}

  insertApiKey(record: ApiKeyRecord): Promise<void> {
    return this.run(async () => {
      await this.keys.insertOne({ _id: record.id, ...record });
    });
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.run(async () => {
      const document = await this.keys.findOne({ hash });
      return document ? withoutId(document) : undefined;
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.run(async () => (await this.keys.find().sort({ createdAt: 1, _id: 1 }).toArray()).map(withoutId));
  }

  deleteApiKey(id: string): Promise<boolean> {
    return this.run(async () => (await this.keys.deleteOne({ _id: id })).deletedCount > 0);
  }

  touchApiKey(id: string, at: string): Promise<void> {
    return this.run(async () => {
      await this.keys.updateOne({ _id: id }, { $set: { lastUsedAt: at } });
    });
  }
}

export class MongoRegisteredSources implements RegisteredSourceStore {
  constructor(
    private readonly sources: Collection<RegisteredSourceDocument>,
    private readonly run: RunOperation,
  ) {}

  insertRegisteredSource(record: RegisteredSourceRecord): Promise<boolean> {
    return this.run(async () => {
      try {
        await this.sources.insertOne({ _id: record.name, ...record });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
  }

  getRegisteredSource(name: string): Promise<RegisteredSourceRecord | undefined> {
    return this.run(async () => {
      const document = await this.sources.findOne({ _id: name });
      return document ? withoutId(document) : undefined;
    });
  }

  listRegisteredSources(): Promise<RegisteredSourceRecord[]> {
    return this.run(async () => (await this.sources.find().sort({ _id: 1 }).toArray()).map(withoutId));
  }

  replaceRegisteredSource(record: RegisteredSourceRecord): Promise<boolean> {
    return this.run(async () => (await this.sources.replaceOne({ _id: record.name }, record)).matchedCount > 0);
  }

  deleteRegisteredSource(name: string): Promise<boolean> {
    return this.run(async () => (await this.sources.deleteOne({ _id: name })).deletedCount > 0);
  }
}

export class MongoAuditLog implements AuditStore {
  constructor(
    private readonly records: Collection<AuditDocument>,
    private readonly run: RunOperation,
  ) {}

  appendAudit(record: AuditRecord): Promise<void> {
    return this.run(async () => {
      await this.records.insertOne({ _id: record.id, ...record });
    });
  }

  listAudit(query: { limit: number; target?: string }): Promise<AuditRecord[]> {
    return this.run(async () =>
      (
        await this.records
          .find(query.target === undefined ? {} : { target: query.target })
          .sort({ at: -1, _id: -1 })
          .limit(query.limit)
          .toArray()
      ).map(withoutId),
    );
  }
}

function withoutId<T extends { _id: string }>({ _id, ...rest }: T): Omit<T, '_id'> {
  return rest;
}
