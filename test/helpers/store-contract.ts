/**
 * The store contract: every Store implementation (embedded SQLite, MongoDB) must pass this suite.
 * `openStore` returns a fresh, empty, opened store; `reopen` (optional) opens a second handle on
 * the same data, as a restarted process would.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncidentPage } from '../../src/incidents/ports.js';
import type { Store } from '../../src/store/store.js';
import type { DeliveryFacts, Incident, IncidentDraft, NewIncident } from '../../src/incidents/model.js';
import { newIncident as buildIncident } from '../../src/incidents/incident.js';
import { decodeCursor } from '../../src/incidents/cursor.js';

export interface StoreFactory {
  openStore(): Promise<Store>;
  reopen?(store: Store): Promise<Store>;
}

/** A new incident as the domain builds it from a delivery's facts and its draft (the store gets it whole). */
export function newIncident(overrides: Partial<IncidentDraft & DeliveryFacts> = {}): NewIncident {
  const id = randomUUID();
  const declared: IncidentDraft & DeliveryFacts = {
    id,
    source: 'edr',
    receivedAt: '2026-03-01T10:00:00.000Z',
    dedupeKey: `sha256:${id}`,
    raw: '{"a":1}',
    labels: {},
    triagePlaybook: null,
    format: 'generic',
    eventType: 'security_alert',
    title: 'Test alert',
    severity: 'high',
    vendorSeverity: 'high',
    incidentType: 'malware',
    occurredAt: '2026-03-01T09:59:00.000Z',
    externalId: null,
    observables: {
      hosts: ['ws-1'],
      users: ['alice'],
      emails: [],
      ips: ['192.0.2.1'],
      hashes: ['d41d8cd98f00b204e9800998ecf8427e'],
      urls: [],
      domains: ['c2.example.net'],
      processes: ['C:\\Windows\\System32\\rundll32.exe'],
      files: [],
      md5: ['d41d8cd98f00b204e9800998ecf8427e'],
      sha1: [],
      sha256: [],
    },
    mitre: { tactics: ['TA0006'], techniques: ['T1003.001'] },
    ...overrides,
  };
  return buildIncident(declared, declared);
}

/**
 * Asserts that a stored incident carries every field of the input it was made from: what the store
 * reads back is compared with what was given to it, not with what it returned on insert.
 */
export function assertStoredAs(stored: Incident | undefined, input: NewIncident): asserts stored is Incident {
  assert.ok(stored, `incident ${input.id} is stored`);
  const { triage, ...fields } = input;
  for (const [key, value] of Object.entries(fields)) assert.deepEqual(stored[key as keyof Incident], value, `field ${key}`);
  assert.equal(stored.triage.playbook, triage.playbook);
  assert.equal(stored.triage.state, triage.playbook ? 'pending' : 'none');
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
      const input = newIncident({
        raw: '{"key":"value with \\u0000 and ünïcödé"}',
        title: 'Ünïcödé title with "quotes" and \u2028',
        severity: 'critical',
        vendorSeverity: '10',
        incidentType: 'phishing',
        externalId: 'vendor-42',
        occurredAt: '2026-03-01T09:58:59.123Z',
        labels: { team: 'blue', 'on-call_2': 'ünïcödé "quoted"' },
        observables: {
          hosts: ['ws-1', 'ws-2'],
          users: ['alice'],
          emails: ['a@example.com'],
          ips: ['10.0.0.1', '::1'],
          hashes: ['d41d8cd98f00b204e9800998ecf8427e'],
          urls: ['https://example.com/x?y=1'],
          domains: ['example.com'],
          processes: ['powershell.exe'],
          files: ['C:\\Temp\\x.ps1'],
          md5: ['d41d8cd98f00b204e9800998ecf8427e'],
          sha1: [],
          sha256: [],
        },
      });
      const result = await store.insertIncident(input);
      assert.equal(result.created, true);
      assert.equal(result.incident.number, 'INC-2026-0001');
      assert.equal(result.incident.status, 'new');
      for (const read of [await store.getIncident(input.id), await store.getIncident('INC-2026-0001')]) {
        assertStoredAs(read, input);
        assert.equal(read.number, 'INC-2026-0001');
        assert.equal(read.status, 'new');
        assert.equal(read.triage.attempts, 0);
      }
      assert.equal(await store.getIncident(randomUUID()), undefined);
      const [summary] = (await store.listIncidents({ limit: 1, maxBytes: 1 << 20 })).items;
      assert.deepEqual(summary?.labels, input.labels, 'lists carry the labels');
    });

    it('keeps absent optional fields absent', async () => {
      const store = await open();
      const input = newIncident({
        vendorSeverity: null,
        occurredAt: null,
        externalId: null,
        observables: { hosts: [], users: [], emails: [], ips: [], hashes: [], urls: [], domains: [], processes: [], files: [], md5: [], sha1: [], sha256: [] },
        mitre: { tactics: [], techniques: [] },
      });
      await store.insertIncident(input);
      assertStoredAs(await store.getIncident(input.id), input);
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
      const inputs = Array.from({ length: 20 }, () => newIncident({ dedupeKey: 'hdr:msg-42' }));
      const results = await Promise.all(inputs.map((input) => store.insertIncident(input)));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.incident.id)).size, 1);
      const winner = inputs.find((input) => input.id === results[0]!.incident.id)!;
      assertStoredAs(await store.getIncident(winner.id), winner);
      assert.equal((await store.listIncidents({ limit: 50 })).items.length, 1);
    });

    it('records a pending triage request with the incident when a playbook is given', async () => {
      const store = await open();
      const input = newIncident({ triagePlaybook: 'phishing_triage' });
      const result = await store.insertIncident(input);
      assert.equal(result.incident.triage.state, 'pending');
      assertStoredAs(await store.getIncident(input.id), input);
    });

    it('lists newest first with filters and keyset pagination', async () => {
      const store = await open();
      const inputs = Array.from({ length: 7 }, (_, i) =>
        newIncident({
          receivedAt: `2026-05-01T10:00:0${i}.000Z`,
          severity: i % 2 ? 'low' : 'critical',
          source: i < 5 ? 'edr' : 'siem',
          title: `alert ${i}`,
        }),
      );
      for (const input of inputs) await store.insertIncident(input);
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
      assert.deepEqual(
        seen.map((i) => i.id),
        [...inputs].reverse().map((input) => input.id),
        'every incident once, newest first',
      );
      for (const item of seen) {
        const input = inputs.find((candidate) => candidate.id === item.id)!;
        for (const key of ['source', 'severity', 'title', 'receivedAt', 'format', 'eventType', 'externalId'] as const)
          assert.deepEqual(item[key], input[key], key);
      }
      const critical = await store.listIncidents({ limit: 50, severity: 'critical', source: 'edr' });
      assert.deepEqual(
        critical.items.map((i) => i.receivedAt),
        ['2026-05-01T10:00:04.000Z', '2026-05-01T10:00:02.000Z', '2026-05-01T10:00:00.000Z'],
      );
      const window = await store.listIncidents({ limit: 50, since: '2026-05-01T10:00:02.000Z', until: '2026-05-01T10:00:04.000Z' });
      // since inclusive, until exclusive.
      assert.deepEqual(
        window.items.map((i) => i.id),
        [inputs[3]!.id, inputs[2]!.id],
      );
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

    it('finds nothing wrong in the integrity check of a store in use, and is healthy', async () => {
      const store = await open();
      await Promise.all(Array.from({ length: 20 }, () => store.insertIncident(newIncident())));
      const report = await store.checkIntegrity();
      assert.ok(report.parts.length > 0, 'something was checked');
      assert.deepEqual(
        report.parts.filter((part) => !part.ok || part.problems.length > 0),
        [],
      );
      assert.equal(report.ok, true);
      assert.deepEqual(store.health(), { healthy: true });
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('keeps incidents and continues numbering after a restart', async () => {
        const store = await open();
        const input = newIncident();
        const first = await store.insertIncident(input);
        await store.close();
        const again = await reopen(store);
        opened.push(again);
        assertStoredAs(await again.getIncident(input.id), input);
        assert.equal((await again.getIncident(input.id))?.number, first.incident.number);
        const second = await again.insertIncident(newIncident());
        assert.equal(second.incident.number, 'INC-2026-0002');
      });
    }
  });
}
