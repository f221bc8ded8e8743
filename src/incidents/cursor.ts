import type { Incident } from './model.js';

/** Keyset pagination position: newest first by (receivedAt, id). Opaque to clients. */
export interface CursorPosition {
  receivedAt: string;
  id: string;
}

export function encodeCursor(incident: Pick<Incident, 'receivedAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([incident.receivedAt, incident.id])).toString('base64url');
}

/** The position a cursor encodes, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  try {
    const [receivedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof receivedAt === 'string' && typeof id === 'string') return { receivedAt, id };
  } catch {
    // not base64url JSON: not a cursor we issued
  }
  return undefined;
}

/**
 * A page from rows in list order, read lazily: at most `limit` items, and no more once the items'
 * size reaches `maxBytes` (the first always comes). `next` is set when rows remain after the page.
 */
export function takePage<Row, Item extends { receivedAt: string; id: string }>(
  rows: Iterable<Row>,
  query: { limit: number; maxBytes?: number },
  sizeOf: (row: Row) => number,
  toItem: (row: Row) => Item,
): { items: Item[]; next: string | null } {
  const items: Item[] = [];
  let bytes = 0;
  for (const row of rows) {
    const last = items[items.length - 1];
    if (last && (items.length >= query.limit || (query.maxBytes !== undefined && bytes >= query.maxBytes))) {
      return { items, next: encodeCursor(last) };
    }
    items.push(toItem(row));
    bytes += sizeOf(row);
  }
  return { items, next: null };
}
