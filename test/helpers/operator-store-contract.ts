/**
 * The store contract of the operator surface (API keys, sources registered through the API):
 * every Store implementation runs it, like store-contract.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashApiKeyToken, newApiKeyRecord } from '../../src/apikeys/api-key.js';
import type { RegisteredSourceRecord } from '../../src/sources/registered-source.js';
import { newAuditRecord, type AuditAction } from '../../src/audit/audit.js';
import { storesClosedAfter, type StoreFactory } from './store-contract.js';

function registered(name: string, overrides: Partial<RegisteredSourceRecord> = {}): RegisteredSourceRecord {
  return {
    name,
    spec: { autoTriage: true, playbook: 'phishing_triage', severityMapping: { p1: 'critical' } },
    secret: 'aes256gcm:v1:c2VhbGVk',
    previousSecret: null,
    previousSecretExpiresAt: null,
    createdAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-01T10:00:00.000Z',
    ...overrides,
  };
}

export function operatorStoreContract(name: string, factory: Pick<StoreFactory, 'openStore'>): void {
  describe(`operator store contract: ${name}`, () => {
    const { open } = storesClosedAfter(factory);

    it('finds an API key by the hash of its token, lists, touches and deletes it', async () => {
      const store = await open();
      const first = newApiKeyRecord({ name: 'ci', scopes: ['webhooks:read'], expiresAt: null, now: new Date('2026-03-01T10:00:00Z') });
      const second = newApiKeyRecord({ name: 'ops', scopes: ['admin'], expiresAt: '2027-01-01T00:00:00.000Z', now: new Date('2026-03-01T10:00:01Z') });
      await store.apiKeys.insertApiKey(first.record);
      await store.apiKeys.insertApiKey(second.record);

      assert.deepEqual(await store.apiKeys.findApiKeyByHash(hashApiKeyToken(first.token)), first.record);
      assert.equal(await store.apiKeys.findApiKeyByHash(hashApiKeyToken('tw_wrong')), undefined);
      assert.deepEqual(
        (await store.apiKeys.listApiKeys()).map((key) => key.name),
        ['ci', 'ops'],
      );

      await store.apiKeys.touchApiKey(first.record.id, '2026-03-01T11:00:00.000Z');
      assert.equal((await store.apiKeys.findApiKeyByHash(first.record.hash))?.lastUsedAt, '2026-03-01T11:00:00.000Z');

      assert.equal(await store.apiKeys.deleteApiKey(first.record.id), true);
      assert.equal(await store.apiKeys.deleteApiKey(first.record.id), false);
      assert.equal(await store.apiKeys.findApiKeyByHash(first.record.hash), undefined);
      assert.deepEqual(
        (await store.apiKeys.listApiKeys()).map((key) => key.id),
        [second.record.id],
      );
    });

    it('keeps the audit log: every record as written, newest first, limited, by target', async () => {
      const store = await open();
      const actor = { keyId: 'key-1', keyName: 'ops', kubernetesUser: null };
      const change = (action: AuditAction, target: string, at: string, details: Record<string, unknown> = {}) =>
        newAuditRecord({ actor, action, target, details }, new Date(at));
      const records = [
        change('apikey.create', 'key-2', '2026-03-01T10:00:00.000Z', { name: 'ci', scopes: ['webhooks:read'] }),
        change('source.register', 'siem', '2026-03-01T10:00:01.000Z', { keys: ['auto_triage'], previous_secret: false }),
        change('source.update', 'siem', '2026-03-01T10:00:02.000Z', { keys: [], secret_rotated: true }),
        {
          ...change('source.remove', 'siem', '2026-03-01T10:00:03.000Z'),
          actor: { keyId: 'bootstrap', keyName: 'bootstrap', kubernetesUser: 'system:serviceaccount:tw:tw' },
        },
      ];
      for (const record of records) await store.audit.appendAudit(record);
      assert.deepEqual(await store.audit.listAudit({ limit: 10 }), [...records].reverse(), 'newest first, each as written');
      assert.deepEqual(
        (await store.audit.listAudit({ limit: 2 })).map((record) => record.action),
        ['source.remove', 'source.update'],
      );
      assert.deepEqual(
        (await store.audit.listAudit({ limit: 10, target: 'siem' })).map((record) => record.action),
        ['source.remove', 'source.update', 'source.register'],
      );
      assert.deepEqual(await store.audit.listAudit({ limit: 10, target: 'absent' }), []);
    });

    it('keeps one registered source per name; replaces, lists by name and deletes', async () => {
      const store = await open();
      const sources = store.registeredSources;
      assert.equal(await sources.insertRegisteredSource(registered('siem')), true);
      assert.equal(await sources.insertRegisteredSource(registered('email-gateway')), true);
      assert.equal(await sources.insertRegisteredSource(registered('siem', { spec: {} })), false, 'a taken name is refused, not overwritten');
      assert.deepEqual((await sources.getRegisteredSource('siem'))?.spec, registered('siem').spec);

      const rotated = registered('siem', {
        secret: 'aes256gcm:v1:bmV3',
        previousSecret: 'aes256gcm:v1:c2VhbGVk',
        previousSecretExpiresAt: '2026-03-02T10:00:00.000Z',
      });
      assert.equal(await sources.replaceRegisteredSource(rotated), true);
      assert.deepEqual(await sources.getRegisteredSource('siem'), rotated);
      assert.equal(await sources.replaceRegisteredSource(registered('absent')), false);

      assert.deepEqual(
        (await sources.listRegisteredSources()).map((source) => source.name),
        ['email-gateway', 'siem'],
      );
      assert.equal(await sources.deleteRegisteredSource('siem'), true);
      assert.equal(await sources.deleteRegisteredSource('siem'), false);
      assert.equal(await sources.getRegisteredSource('siem'), undefined);
    });
  });
}
