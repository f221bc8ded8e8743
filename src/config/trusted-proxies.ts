import { BlockList, isIP } from 'node:net';
import { ConfigError } from './config-error.js';

/**
 * `TW_TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` is believed, as CIDRs or single
 * addresses, IPv4 and IPv6. Empty (the default) trusts no one: the client is the socket's peer.
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText, ...rest] = entry.split('/');
    const family = isIP(address);
    const maxPrefix = family === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? maxPrefix : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (family === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= maxPrefix)) {
      throw new ConfigError(`TW_TRUSTED_PROXIES: '${entry.slice(0, 100)}' is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}
