import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pageJson } from '../../src/http/api/incidents.js';
import { decodeCursor } from '../../src/store/cursor.js';
import type { IncidentSummary } from '../../src/incidents/model.js';

function summary(i: number, title = `alert ${i}`): IncidentSummary {
  return {
    id: `id-${i}`,
    number: `INC-2026-${i}`,
    source: 'edr',
    receivedAt: `2026-05-01T10:00:0${9 - i}.000Z`,
    dedupeKey: `hdr:${i}`,
    status: 'new',
    format: 'generic',
    eventType: 'alert',
    title,
    severity: 'high',
    vendorSeverity: null,
    incidentType: 'other',
    occurredAt: null,
    externalId: null,
    observables: { hosts: [], users: [], emails: [], ips: [], hashes: [], urls: [] },
    triage: { state: 'none', playbook: null, attempts: 0, lastError: null, nextAttemptAt: null, dispatchedAt: null },
  };
}

const render = (page: Parameters<typeof pageJson>[0], budget: number) => JSON.parse([...pageJson(page, budget)].join(''));

describe('pageJson', () => {
  it('writes the whole page and the store cursor when within budget', () => {
    const page = render({ items: [summary(1), summary(2)], next: 'store-next' }, 1_000_000);
    assert.deepEqual(page.items.map((item: any) => item.incident_id), ['id-1', 'id-2']);
    assert.equal(page.next, 'store-next');
  });

  it('stops at the byte budget and continues after the last item written', () => {
    const big = 'x'.repeat(400);
    const itemBytes = Buffer.byteLength(JSON.stringify(render({ items: [summary(1, big)], next: null }, 1e9).items[0]));
    const page = render({ items: [summary(1, big), summary(2, big), summary(3, big)], next: null }, Math.floor(itemBytes * 2.5));
    assert.deepEqual(page.items.map((item: any) => item.incident_id), ['id-1', 'id-2']);
    assert.deepEqual(decodeCursor(page.next), { receivedAt: summary(2).receivedAt, id: 'id-2' });
  });

  it('always writes the first item, so paging moves on', () => {
    const page = render({ items: [summary(1, 'x'.repeat(500)), summary(2)], next: null }, 10);
    assert.deepEqual(page.items.map((item: any) => item.incident_id), ['id-1']);
    assert.equal(decodeCursor(page.next)?.id, 'id-1');
  });

  it('an empty page', () => {
    assert.deepEqual(render({ items: [], next: null }, 10), { items: [], next: null });
  });
});
