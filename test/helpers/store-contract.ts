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
import { decodeCursor, type CursorPosition } from '../../src/incidents/cursor.js';

export interface StoreFactory {
  openStore(): Promise<Store>;
  reopen?: (store: Store) => Promise<Store>;
}

/** A new incident as the domain builds it from a delivery's facts and its draft (the store gets it whole). */
export function newIncident(overrides: Partial<IncidentDraft & DeliveryFacts & { normalizerVersion: number }> = {}): NewIncident {
  const id = randomUUID();
  const declared: IncidentDraft & DeliveryFacts = {
    id,
    source: 'edr',
    receivedAt: '2026-03-01T10:00:00.000Z',
    dedupeKey: `sha256:${id}`,
    raw: '{"a":1}',
    labels: {},
    triagePlaybook: null,
    test: false,
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
  return buildIncident(declared, declared, overrides.normalizerVersion ?? 1);
}

/**
 * Asserts that a stored incident carries every field of the input it was made from: what the store
 * reads back is compared with what was given to it, not with what it returned on insert.
 */
function assertStoredAs(stored: Incident | undefined, input: NewIncident): asserts stored is Incident {
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

    it('moves an incident to acknowledged and resolved only from the statuses given, durably, keeping who and when', async () => {
      const store = await open();
      const input = newIncident();
      const { incident } = await store.insertIncident(input);
      assert.equal(incident.status, 'new');
      assert.equal(incident.acknowledged, null);
      const ack = { at: '2026-03-01T10:05:00.000Z', by: 'alice', keyId: 'key-1', note: 'on it' };
      const acknowledged = await store.changeIncidentStatus(incident.number, 'acknowledged', ['new'], ack);
      assert.equal(acknowledged?.status, 'acknowledged');
      assert.deepEqual(acknowledged?.acknowledged, ack);
      // Asked again from `new` only: nothing changes, the incident comes back as it is.
      const again = await store.changeIncidentStatus(incident.id, 'acknowledged', ['new'], { ...ack, by: 'bob' });
      assert.deepEqual(again?.acknowledged, ack);
      const resolve = { at: '2026-03-01T11:00:00.000Z', by: 'bob', keyId: 'key-2', note: null };
      const resolved = await store.changeIncidentStatus(incident.id, 'resolved', ['new', 'acknowledged'], resolve);
      assert.equal(resolved?.status, 'resolved');
      const stored = await store.getIncident(incident.id);
      assert.equal(stored?.status, 'resolved');
      assert.deepEqual(stored?.acknowledged, ack, 'the acknowledgement is kept');
      assert.deepEqual(stored?.resolved, resolve);
      assert.equal(stored?.raw, input.raw);
      assert.deepEqual(
        (await store.listIncidents({ limit: 10, status: 'resolved' })).items.map((item) => item.id),
        [incident.id],
        'the status filter sees the change',
      );
      assert.equal(await store.changeIncidentStatus('INC-1999-0001', 'resolved', ['new'], resolve), undefined);
    });

    it("keeps a test event's incident apart: marked, never triaged, listed only when asked for", async () => {
      const store = await open();
      const real = newIncident();
      const test = newIncident({ test: true });
      await store.insertIncident(real);
      assertStoredAs((await store.insertIncident(test)).incident, test);
      assertStoredAs(await store.getIncident(test.id), test);
      const ids = async (filter: { test?: boolean }) => (await store.listIncidents({ limit: 10, ...filter })).items.map((item) => item.id).sort();
      assert.deepEqual(await ids({ test: false }), [real.id]);
      assert.deepEqual(await ids({ test: true }), [test.id]);
      assert.deepEqual(await ids({}), [real.id, test.id].sort());
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

    it('prunes by age in bounded steps: raw bodies first, then incidents, never one waiting for triage, within the scope only', async () => {
      const store = await open();
      const day = (n: number) => `2026-01-${String(n).padStart(2, '0')}T00:00:00.000Z`;
      const raw = JSON.stringify({ body: 'b'.repeat(500) });
      const old = [1, 2, 3, 4].map((n) => newIncident({ receivedAt: day(n), raw }));
      const pending = newIncident({ receivedAt: day(2), raw, triagePlaybook: 'malware_triage' });
      const otherSource = newIncident({ receivedAt: day(1), raw, source: 'siem' });
      const recent = newIncident({ receivedAt: day(20), raw });
      for (const input of [...old, pending, otherSource, recent]) await store.insertIncident(input);
      const edr = { source: 'edr' } as const;
      const cutoff = day(10);

      let dropped = 0;
      let steps = 0;
      let after: CursorPosition | undefined;
      do {
        const step = await store.pruneRawBodies({ scope: edr, before: cutoff, after, limit: 2 });
        dropped += step.dropped;
        after = step.next;
        steps++;
      } while (after);
      assert.equal(dropped, 4, 'the four old raw bodies of edr; not the pending one');
      assert.equal(steps, 3, 'five incidents before the cutoff, two per step');
      for (const input of old) {
        const stored = await store.getIncident(input.id);
        assert.equal(stored?.raw, null, 'the raw body is gone');
        assert.deepEqual(
          [stored.title, stored.number, stored.receivedAt, stored.severity],
          [input.title, stored.number, input.receivedAt, input.severity],
          'the incident stays',
        );
      }
      for (const kept of [pending, otherSource, recent]) assert.equal((await store.getIncident(kept.id))?.raw, raw);
      assert.equal((await store.pruneRawBodies({ scope: edr, before: cutoff, limit: 10 })).dropped, 0, 'dropping again drops nothing');

      assert.equal(await store.pruneIncidents({ scope: edr, before: cutoff, limit: 3 }), 3);
      assert.equal(await store.pruneIncidents({ scope: edr, before: cutoff, limit: 3 }), 1);
      assert.equal(await store.pruneIncidents({ scope: edr, before: cutoff, limit: 3 }), 0);
      for (const input of old) assert.equal(await store.getIncident(input.id), undefined);
      assert.equal((await store.getIncident(pending.id))?.triage.state, 'pending', 'waiting for triage: kept, with its raw body');
      assert.deepEqual(
        (await store.triage.listTriage({ state: 'pending', limit: 10 })).map((incident) => incident.id),
        [pending.id],
      );
      assert.ok(await store.getIncident(otherSource.id), 'another source is not in the scope');

      assert.equal(await store.pruneIncidents({ scope: { exceptSources: ['edr'] }, before: cutoff, limit: 10 }), 1);
      assert.equal(await store.getIncident(otherSource.id), undefined);

      // Once handed over, it goes like the others.
      const claimed = await store.triage.claimTriage('w', new Date(day(21)), 1000);
      assert.equal(claimed?.id, pending.id);
      await store.triage.finishTriage({ id: pending.id, attempts: 1 }, { state: 'dispatched', at: day(21) });
      assert.equal((await store.pruneRawBodies({ scope: edr, before: cutoff, limit: 10 })).dropped, 1);
      assert.equal(await store.pruneIncidents({ scope: edr, before: cutoff, limit: 10 }), 1);
      assert.deepEqual(
        (await store.listIncidents({ limit: 50 })).items.map((item) => item.id),
        [recent.id],
      );
      assert.equal((await store.triage.listTriage({ state: 'dispatched', limit: 10 })).length, 0, 'its outbox entry went with it');
      // Numbers are never handed out again.
      const next = await store.insertIncident(newIncident({ receivedAt: day(21) }));
      assert.equal(next.incident.number, 'INC-2026-0008');
    });

    it('scans incidents oldest first with their raw bodies, in pages bounded by count and bytes, and counts a range', async () => {
      const store = await open();
      const at = (second: number) => `2026-04-01T10:00:0${second}.000Z`;
      const edr = [1, 2, 3, 4, 5].map((second) => newIncident({ receivedAt: at(second), raw: JSON.stringify({ n: second, pad: 'p'.repeat(1000) }) }));
      const siem = newIncident({ source: 'siem', receivedAt: at(3) });
      for (const input of [edr[4]!, siem, ...edr.slice(0, 4)]) await store.insertIncident(input);

      const seen: Incident[] = [];
      let after: CursorPosition | undefined;
      for (;;) {
        const page = await store.scanIncidents({ source: 'edr', after, limit: 2, maxBytes: 1 << 20 });
        if (page.length === 0) break;
        assert.ok(page.length <= 2);
        seen.push(...page);
        after = { receivedAt: page.at(-1)!.receivedAt, id: page.at(-1)!.id };
      }
      assert.deepEqual(
        seen.map((incident) => incident.id),
        edr.map((input) => input.id),
        'every edr incident once, oldest first',
      );
      for (const [index, incident] of seen.entries()) assertStoredAs(incident, edr[index]!);
      assert.equal((await store.scanIncidents({ source: 'edr', limit: 10, maxBytes: 1500 })).length, 2, 'a page stops once its bodies reach the bytes');
      assert.equal((await store.scanIncidents({ source: 'edr', limit: 10, maxBytes: 1 })).length, 1, 'the first always comes');
      const window = await store.scanIncidents({ since: at(2), until: at(4), limit: 10, maxBytes: 1 << 20 });
      assert.deepEqual(
        window.map((incident) => incident.receivedAt),
        [at(2), at(3), at(3)],
        'since inclusive, until exclusive, every source',
      );

      assert.equal(await store.countIncidents({}), 6);
      assert.equal(await store.countIncidents({ source: 'edr' }), 5);
      assert.equal(await store.countIncidents({ since: at(2), until: at(4) }), 3);
    });

    it('re-normalizing rewrites the normalized fields and the version only, and queues triage again where asked', async () => {
      const store = await open();
      const first = newIncident({ externalId: 'ldt:1' });
      const second = newIncident({ receivedAt: '2026-03-01T10:00:01.000Z' });
      const stored = [(await store.insertIncident(first)).incident, (await store.insertIncident(second)).incident];
      const draft = {
        format: 'crowdstrike' as const,
        eventType: 'DetectionSummaryEvent',
        title: 'Credential dumping',
        severity: 'critical' as const,
        vendorSeverity: null,
        incidentType: 'intrusion' as const,
        occurredAt: null,
        externalId: 'ldt:2',
        observables: { ...first.observables, hosts: ['ws-9'], ips: [] },
        mitre: { tactics: [], techniques: ['T1003'] },
      };
      const at = '2026-04-02T00:00:00.000Z';
      const rewritten = await store.renormalizeIncidents(
        [
          { incident: stored[0]!, draft, normalizerVersion: 2, requeuePlaybook: null },
          { incident: stored[1]!, draft: { ...draft, severity: 'low' }, normalizerVersion: 2, requeuePlaybook: 'malware_triage' },
        ],
        at,
      );
      assert.equal(rewritten, 2);

      const read = await store.getIncident(first.id);
      assert.ok(read);
      for (const [key, value] of Object.entries(draft)) assert.deepEqual(read[key as keyof typeof draft], value, key);
      assert.equal(read.normalizerVersion, 2);
      assert.deepEqual(
        [read.id, read.number, read.receivedAt, read.dedupeKey, read.raw, read.status, read.triage.state],
        [first.id, stored[0]!.number, first.receivedAt, first.dedupeKey, first.raw, 'new', 'none'],
        'identity, received time, raw body, status and triage untouched',
      );
      assert.deepEqual(
        (await store.listIncidents({ limit: 10, severity: 'critical' })).items.map((item) => item.id),
        [first.id],
        'the list filters on the new severity',
      );

      const requeued = await store.getIncident(second.id);
      assert.equal(requeued?.number, stored[1]!.number);
      assert.deepEqual(requeued.triage, { state: 'pending', playbook: 'malware_triage', attempts: 0, lastError: null, nextAttemptAt: at, dispatchedAt: null });
      const claimed = await store.triage.claimTriage('w', new Date(at), 1000);
      assert.deepEqual([claimed?.id, claimed?.severity], [second.id, 'low'], 'the dispatcher gets it, new fields and all');
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
