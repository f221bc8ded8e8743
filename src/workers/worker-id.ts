import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Who holds a lease, as shown in the inbox: the pod (host) and process, unique per start. */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
