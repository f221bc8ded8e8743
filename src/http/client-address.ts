import { isIP, type BlockList } from 'node:net';

/** The longest `X-Forwarded-For` walked: a proxy chain is a handful of hops, not a sender's essay. */
const MAX_FORWARDED_HOPS = 20;

/**
 * The client's address as the delivery log records it: the socket's peer, unless the peer is a
 * trusted proxy, in which case `X-Forwarded-For` is walked from the nearest hop back while the hops
 * are trusted proxies. Only IP addresses are ever returned; a hop that is not one ends the walk at
 * the last address that was (a forged or garbled header cannot put text into the log).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: BlockList): string | null {
  let client = peer === undefined ? undefined : plainAddress(peer);
  if (client === undefined) return null;
  if (forwardedFor === undefined) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').slice(-MAX_FORWARDED_HOPS);
  while (isTrusted(client, trusted)) {
    const hop = hops.pop();
    const address = hop === undefined ? undefined : plainAddress(hop.trim());
    if (address === undefined) break;
    client = address;
  }
  return client;
}

/** An IP address without the IPv4-mapped IPv6 prefix node reports on dual-stack sockets; else undefined. */
function plainAddress(text: string): string | undefined {
  const address = text.startsWith('::ffff:') && isIP(text.slice(7)) === 4 ? text.slice(7) : text;
  return isIP(address) === 0 ? undefined : address;
}

function isTrusted(address: string, trusted: BlockList): boolean {
  return trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
