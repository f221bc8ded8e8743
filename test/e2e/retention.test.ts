/**
 * Retention in the real service, on each store: incidents aged before the service starts (written
 * straight into its store, as an older process would have left them) are pruned by the first
 * round, by TW_RETENTION_DAYS / TW_RAW_BODY_RETENTION_DAYS and a source's own retention_days in
 * webhook_config.yaml; what is left is read through the API, and the metrics say what went.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { getJson, metricsText, sample } from '../helpers/api-client.js';
import { newIncident } from '../helpers/store-contract.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { Store } from '../../src/store/store.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = ['sources:', '  edr:', '    secret: "edr-secret"', '  email-gateway:', '    secret: "gw-secret"', '    retention_days: 3', ''].join('\n');
const RAW = JSON.stringify({ event_type: 'security_alert', data: { alert_id: 'a-1', severity: 'high' } });
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.stop();
});

for (const [kind, prepare] of [
  [
    'embedded',
    () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'tw-retention-')), 'data');
      return { env: {}, dataDir, store: new EmbeddedStore(dataDir) as Store };
    },
  ],
  [
    'MongoDB',
    () => {
      const uri = freshMongoUri('tw_retention');
      return {
        env: { MONGODB_URI: uri },
        dataDir: undefined,
        store: new MongoStore({ uri, writeConcern: 'majority', maxPoolSize: 5, deliveryRetentionSeconds: 3600 }) as Store,
      };
    },
  ],
] as const) {
  describe(`retention in the service, ${kind} store`, () => {
    it('prunes by the global settings and the source’s own retention_days at its first round, keeping the incident waiting for triage', async () => {
      const { env, dataDir, store } = prepare();
      await store.open();
      const aged = {
        expired: newIncident({ source: 'edr', receivedAt: daysAgo(40), raw: RAW }),
        rawExpired: newIncident({ source: 'edr', receivedAt: daysAgo(10), raw: RAW }),
        fresh: newIncident({ source: 'edr', receivedAt: daysAgo(1), raw: RAW }),
        waiting: newIncident({ source: 'edr', receivedAt: daysAgo(40), raw: RAW, triagePlaybook: 'malware_triage' }),
        gatewayExpired: newIncident({ source: 'email-gateway', receivedAt: daysAgo(4), raw: RAW }),
        gatewayFresh: newIncident({ source: 'email-gateway', receivedAt: daysAgo(2), raw: RAW }),
      };
      const numbers: Record<string, string> = {};
      for (const [name, input] of Object.entries(aged)) numbers[name] = (await store.insertIncident(input)).incident.number;
      await store.close();

      const service = await startService({
        config: CONFIG,
        ...(dataDir && { dataDir }),
        env: { ...env, TW_RETENTION_DAYS: '30', TW_RAW_BODY_RETENTION_DAYS: '7' },
      });
      services.push(service);
      const round = await service.logged((line) => line.msg === 'retention: pruned incidents and raw bodies', 'the first retention round');
      assert.equal(round.incidentsDeleted, 2);
      assert.equal(round.rawBodiesDropped, 1);

      const read = async (name: keyof typeof aged) => (await getJson(service.url, `/api/incidents/${numbers[name]}`)).body;
      for (const gone of ['expired', 'gatewayExpired'] as const) assert.equal((await read(gone)).error?.code, 'not_found', gone);
      const rawExpired = await read('rawExpired');
      assert.deepEqual([rawExpired.incident_id, rawExpired.raw], [aged.rawExpired.id, null], 'the incident stays, its raw body is gone');
      for (const kept of ['fresh', 'gatewayFresh'] as const) assert.equal((await read(kept)).raw, RAW, kept);
      const waiting = await read('waiting');
      assert.deepEqual([waiting.raw, waiting.triage.state], [RAW, 'pending']);

      const text = await metricsText(service.url);
      assert.equal(sample(text, 'tw_store_pruned_total', { what: 'incidents' }), 2);
      assert.equal(sample(text, 'tw_store_pruned_total', { what: 'raw_bodies' }), 1);
      assert.ok(
        (sample(text, 'tw_store_size_bytes', { part: kind === 'embedded' ? 'tw-webhooks.sqlite' : 'incidents' }) ?? 0) > 0,
        'the store reports its size',
      );
    });
  });
}
