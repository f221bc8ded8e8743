import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, takePage } from '../../../src/incidents/cursor.js';

interface Row {
  id: string;
  receivedAt: string;
  bytes: number;
}

const rows = (sizes: number[]): Row[] => sizes.map((bytes, i) => ({ id: `id-${i}`, receivedAt: `2026-05-01T10:00:0${9 - i}.000Z`, bytes }));
const page = (input: Row[], query: { limit: number; maxBytes?: number }) => {
  const result = takePage(
    input,
    query,
    (row) => row.bytes,
    (row) => row,
  );
  return { ids: result.items.map((item) => item.id), next: result.next === null ? null : decodeCursor(result.next)?.id };
};

describe('takePage', () => {
  it('takes up to limit; next only when rows remain', () => {
    assert.deepEqual(page(rows([1, 1, 1]), { limit: 2 }), { ids: ['id-0', 'id-1'], next: 'id-1' });
    assert.deepEqual(page(rows([1, 1]), { limit: 2 }), { ids: ['id-0', 'id-1'], next: null });
    assert.deepEqual(page([], { limit: 2 }), { ids: [], next: null });
  });

  it('stops once the items reach the byte budget, and next continues after the last item', () => {
    assert.deepEqual(page(rows([600, 600, 600, 600]), { limit: 50, maxBytes: 1000 }), { ids: ['id-0', 'id-1'], next: 'id-1' });
    assert.deepEqual(page(rows([600, 600]), { limit: 50, maxBytes: 1200 }), { ids: ['id-0', 'id-1'], next: null });
  });

  it('always takes the first item, so paging moves on', () => {
    assert.deepEqual(page(rows([5000, 1]), { limit: 50, maxBytes: 10 }), { ids: ['id-0'], next: 'id-0' });
  });

  it('reads the rows lazily: nothing past the one that tells a next page exists', () => {
    let read = 0;
    function* counted() {
      for (const row of rows([600, 600, 600, 600, 600])) {
        read++;
        yield row;
      }
    }
    takePage(
      counted(),
      { limit: 50, maxBytes: 1000 },
      (row) => row.bytes,
      (row) => row,
    );
    assert.equal(read, 3);
  });
});
