/**
 * The read API over HTTP on both stores: every filter of GET /api/incidents (source, severity,
 * status, since/until), cursor paging that returns each incident once, and the errors for bad
 * parameters and missing or wrong tokens.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startInProcess, type ServiceUnderTest } from '../helpers/service.js';
import { storeEnvs } from '../helpers/mongo-database.js';
import { allIncidents, assertError, deliver, genericAlert, getAnonymous, getJson, request } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n  siem:\n    secret: "siem-secret"\n';

for (const [kind, env] of storeEnvs('tw_read')) {
  describe(`GET /api/incidents (${kind} store)`, () => {
    let service: ServiceUnderTest;
    /** What was sent, oldest first: the incident's id, source and severity. */
    const sent: { id: string; source: string; severity: string; receivedAt: string }[] = [];

    before(async () => {
      service = await startInProcess({ config: CONFIG, env: env() });
      const plan = [
        ['edr', 'high'],
        ['siem', 'low'],
        ['edr', 'critical'],
        ['edr', 'low'],
        ['siem', 'critical'],
        ['edr', 'high'],
        ['siem', 'medium'],
      ] as const;
      // One after another, so received times are ordered as sent.
      for (const [source, severity] of plan) {
        const reply = await deliver(service.url, source, `${source}-secret`, genericAlert(randomUUID(), severity));
        assert.equal(reply.status, 201, JSON.stringify(reply.body));
        const incident = await getJson(service.url, `/api/incidents/${reply.body.incident_id}`);
        sent.push({ id: reply.body.incident_id, source, severity, receivedAt: incident.body.received_at });
      }
    });
    after(async () => {
      await service?.stop();
    });

    const newestFirst = (items: typeof sent) => [...items].reverse().map((item) => item.id);
    const ids = async (query: string) => (await allIncidents(service.url, query)).map((item) => item.incident_id);

    it('lists everything newest first', async () => {
      const page = await getJson(service.url, '/api/incidents');
      assert.equal(page.status, 200);
      assert.deepEqual(
        page.body.items.map((item: any) => item.incident_id),
        newestFirst(sent),
      );
      assert.equal(page.body.next ?? null, null);
    });

    it('filters by source, by severity, and by both', async () => {
      assert.deepEqual(await ids('source=siem'), newestFirst(sent.filter((item) => item.source === 'siem')));
      assert.deepEqual(await ids('severity=critical'), newestFirst(sent.filter((item) => item.severity === 'critical')));
      assert.deepEqual(await ids('source=edr&severity=high'), newestFirst(sent.filter((item) => item.source === 'edr' && item.severity === 'high')));
      assert.deepEqual(await ids('source=nobody'), []);
    });

    it('filters by status', async () => {
      assert.deepEqual(await ids('status=new'), newestFirst(sent));
      assert.deepEqual(await ids('status=resolved'), []);
    });

    it('filters by received time: since inclusive, until exclusive', async () => {
      const since = sent[2]!.receivedAt;
      const until = sent[5]!.receivedAt;
      assert.deepEqual(await ids(`since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`), newestFirst(sent.slice(2, 5)));
      assert.deepEqual(await ids(`since=${encodeURIComponent(sent[6]!.receivedAt)}`), [sent[6]!.id]);
    });

    it('pages with the cursor: each incident once, in order, with filters kept', async () => {
      const seen: string[] = [];
      let path = '/api/incidents?limit=2';
      for (let pages = 0; ; pages++) {
        assert.ok(pages < 10, 'paging ends');
        const page = await getJson(service.url, path);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((item: any) => item.incident_id));
        if (!page.body.next) break;
        path = `/api/incidents?limit=2&cursor=${encodeURIComponent(page.body.next)}`;
      }
      assert.deepEqual(seen, newestFirst(sent));

      const first = await getJson(service.url, '/api/incidents?limit=1&source=edr');
      const second = await getJson(service.url, `/api/incidents?limit=1&source=edr&cursor=${encodeURIComponent(first.body.next)}`);
      assert.deepEqual(
        [...first.body.items, ...second.body.items].map((item: any) => item.incident_id),
        newestFirst(sent.filter((item) => item.source === 'edr')).slice(0, 2),
      );
    });

    it('answers 400 in the envelope for bad parameters, 401 without or with a wrong token', async () => {
      for (const query of ['limit=0', 'limit=abc', 'severity=urgent', 'cursor=not-a-cursor', 'since=yesterday']) {
        const reply = await getJson(service.url, `/api/incidents?${query}`);
        assert.equal(reply.status, 400, `${query}: ${JSON.stringify(reply.body)}`);
        assert.equal(typeof reply.body.error.code, 'string');
      }
      assertError(await getAnonymous(service.url, '/api/incidents'), 401, 'unauthorized');
      assertError(await request(service.url, '/api/incidents', { headers: { authorization: 'Bearer wrong' } }), 401, 'unauthorized');
      assertError(await getJson(service.url, `/api/incidents/${randomUUID()}`), 404, 'not_found');
    });
  });
}
