import type { Incident } from '../incidents/model.js';

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
