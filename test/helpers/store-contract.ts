/**
 * The store contract: every Store implementation (embedded SQLite, MongoDB) must pass this suite.
 * `openStore` returns a fresh, empty, opened store; `reopen` (optional) opens a second handle on
 * the same data, as a restarted process would.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncidentPage, Store } from '../../src/store/store.js';
import type { NewIncident } from '../../src/incidents/model.js';
import { decodeCursor } from '../../src/store/cursor.js';

export interface StoreFactory {
  openStore(): Promise<Store>;
  reopen?(store: Store): Promise<Store>;
}

export function newIncident(overrides: Partial<NewIncident> = {}): NewIncident {
  const id = randomUUID();
  return {
    id,
    source: 'edr',
    receivedAt: '2026-03-01T10:00:00.000Z',
    dedupeKey: `sha256:${id}`,
    raw: '{"a":1}',
    triagePlaybook: null,
    format: 'generic',
    eventType: 'security_alert',
    title: 'Test alert',
    severity: 'high',
    vendorSeverity: 'high',
    incidentType: 'malware',
    occurredAt: '2026-03-01T09:59:00.000Z',
    externalId: null,
    observables: { hosts: ['ws-1'], users: [], emails: [], ips: ['10.0.0.1'], hashes: [], urls: [] },
    ...overrides,
  };
}

/** Inside a describe: opens stores from the factory and closes them all after the suite. */
export function storesClosedAfter(factory: Pick<StoreFactory, 'openStore'>): { open: () => Promise<Store>; opened: Store[] } {
  const opened: Store[] = [];
  after(async () => {
    for (const store of opened) await store.close().catch(() => undefined);
  });
  const open = async () => {
    const store = await factory.openStore();
    opened.push(store);
    return store;
  };
  return { open, opened };
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    const { open, opened } = storesClosedAfter(factory);

    it('stores an incident with a number of the received year and reads it back by id and number', async () => {
      const store = await open();
      const input = newIncident({ raw: '{"key":"value with \\u0000 and ünïcödé"}' });
      const result = await store.insertIncident(input);
      assert.equal(result.created, true);
      assert.equal(result.incident.number, 'INC-2026-0001');
      assert.equal(result.incident.status, 'new');
      assert.equal(result.incident.triage.state, 'none');
      const byId = await store.getIncident(input.id);
      const byNumber = await store.getIncident('INC-2026-0001');
      assert.deepEqual(byId, result.incident);
      assert.deepEqual(byNumber, result.incident);
      assert.equal(byId?.raw, input.raw);
      assert.equal(await store.getIncident(randomUUID()), undefined);
    });

    it('returns the original incident for the same source and dedupe key', async () => {
      const store = await open();
      const first = await store.insertIncident(newIncident({ dedupeKey: 'ext:crowdstrike:ldt:1' }));
      const again = await store.insertIncident(newIncident({ dedupeKey: 'ext:crowdstrike:ldt:1' }));
      const otherSource = await store.insertIncident(newIncident({ dedupeKey: 'ext:crowdstrike:ldt:1', source: 'siem' }));
      assert.equal(again.created, false);
      assert.equal(again.incident.id, first.incident.id);
      assert.equal(again.incident.number, first.incident.number);
      assert.equal(otherSource.created, true);
      assert.notEqual(otherSource.incident.number, first.incident.number);
    });

    it('numbers per calendar year and gives concurrent inserts distinct numbers', async () => {
      const store = await open();
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          store.insertIncident(newIncident({ receivedAt: i % 2 ? '2026-12-31T23:59:59.000Z' : '2027-01-01T00:00:00.000Z' })),
        ),
      );
      const numbers = results.map((r) => r.incident.number);
      assert.equal(new Set(numbers).size, 60);
      const of2027 = numbers.filter((n) => n.startsWith('INC-2027-')).sort();
      assert.equal(of2027.length, 30);
      assert.equal(of2027[0], 'INC-2027-0001');
      assert.equal(of2027[29], 'INC-2027-0030');
    });

    it('concurrent deliveries of one event create one incident', async () => {
      const store = await open();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.insertIncident(newIncident({ dedupeKey: 'hdr:msg-42' }))),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.incident.id)).size, 1);
    });

    it('records a pending triage request with the incident when a playbook is given', async () => {
      const store = await open();
      const result = await store.insertIncident(newIncident({ triagePlaybook: 'phishing_triage' }));
      assert.equal(result.incident.triage.state, 'pending');
      assert.equal(result.incident.triage.playbook, 'phishing_triage');
      assert.equal((await store.getIncident(result.incident.id))?.triage.state, 'pending');
    });

    it('lists newest first with filters and keyset pagination', async () => {
      const store = await open();
      for (let i = 0; i < 7; i++) {
        await store.insertIncident(
          newIncident({
            receivedAt: `2026-05-01T10:00:0${i}.000Z`,
            severity: i % 2 ? 'low' : 'critical',
            source: i < 5 ? 'edr' : 'siem',
          }),
        );
      }
      const first = await store.listIncidents({ limit: 3 });
      assert.equal(first.items.length, 3);
      assert.equal(first.items[0]?.receivedAt, '2026-05-01T10:00:06.000Z');
      assert.ok(first.next);
      const seen = [...first.items];
      let next: string | null = first.next;
      while (next) {
        const page = await store.listIncidents({ limit: 3, after: decodeCursor(next) });
        seen.push(...page.items);
        next = page.next;
      }
      assert.equal(seen.length, 7);
      assert.equal(new Set(seen.map((i) => i.id)).size, 7);
      const critical = await store.listIncidents({ limit: 50, severity: 'critical', source: 'edr' });
      assert.deepEqual(critical.items.map((i) => i.receivedAt), ['2026-05-01T10:00:04.000Z', '2026-05-01T10:00:02.000Z', '2026-05-01T10:00:00.000Z']);
      const window = await store.listIncidents({ limit: 50, since: '2026-05-01T10:00:02.000Z', until: '2026-05-01T10:00:04.000Z' });
      assert.equal(window.items.length, 2);
    });

    it('lists summaries without raw bodies, in pages bounded by bytes', async () => {
      const store = await open();
      const raw = JSON.stringify({ blob: 'r'.repeat(100_000) });
      for (let i = 0; i < 5; i++) {
        await store.insertIncident(newIncident({ receivedAt: `2026-05-02T10:00:0${i}.000Z`, title: `t${i}`.repeat(100), raw }));
      }
      const ids: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const page: IncidentPage = await store.listIncidents({ limit: 50, maxBytes: 1000, ...(next ? { after: decodeCursor(next) } : {}) });
        for (const item of page.items) assert.equal('raw' in item, false);
        assert.ok(page.items.length >= 1 && page.items.length <= 3, `page of ${page.items.length}`);
        ids.push(...page.items.map((item) => item.id));
        next = page.next;
        pages++;
      } while (next);
      assert.equal(new Set(ids).size, 5, 'every incident exactly once across the pages');
      assert.ok(pages >= 2, `${pages} pages`);
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('keeps incidents and continues numbering after a restart', async () => {
        const store = await open();
        const first = await store.insertIncident(newIncident());
        await store.close();
        const again = await reopen(store);
        opened.push(again);
        assert.deepEqual(await again.getIncident(first.incident.id), first.incident);
        const second = await again.insertIncident(newIncident());
        assert.equal(second.incident.number, 'INC-2026-0002');
      });
    }
  });
}
