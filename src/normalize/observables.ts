import { isIP } from 'node:net';
import type { Observables } from '../incidents/model.js';
import { MAX_OBSERVABLE_LENGTH, MAX_OBSERVABLES_PER_KIND } from '../incidents/schema.js';
import { isObject } from './fields.js';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

/** What a vendor field holds: a kind of observable, a hash of a named algorithm, or a hash its length types. */
export type FieldKind = 'hosts' | 'users' | 'emails' | 'ips' | 'urls' | 'domains' | 'processes' | 'files' | HashAlgorithm | 'hash';

/** A vendor's keys on one object → what their values hold. Read as own properties: no walk. */
export type FieldMap = Readonly<Record<string, FieldKind>>;

/** Values looked at per collector (field values, array items, walked nodes): bounds any payload. */
const VALUE_BUDGET = 5_000;
/** Characters of free text scanned per collector, and per string. */
const TEXT_BUDGET = 256 * 1024;
const MAX_TEXT_PER_STRING = 64 * 1024;

const HOST = /^[\p{L}\p{N}_.-]{1,253}$/u;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const EMAIL = /^[^\s@<>()[\],;:"\\]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const HEX = /^[0-9a-f]+$/i;
const HASH_LENGTHS: Readonly<Record<number, HashAlgorithm>> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };
/** The longest IPv6 text (45) with room for a zone such as `%eth0` or `%enp0s31f6`. */
const MAX_ADDRESS_LENGTH = 64;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;
const URL_IN_TEXT = /https?:\/\/[^\s"'<>]+/gi;
const TOKEN_SEPARATORS = /[\s,;<>()[\]{}"'|=]+/;
/** Punctuation that ends the sentence around a URL or token rather than the URL or token itself. */
const URL_TRAILERS = '.,;:)]';
const TOKEN_TRAILERS = '.:';
const PLACEHOLDERS = new Set(['-', 'n/a', 'na', 'null', 'none', 'unknown', '(none)', '(null)']);

/**
 * Keys of the heuristic walk, squashed to lower-case letters and digits. Hosts and users only by
 * name (a bare word is no indicator), CIM's and the vendors' usual spellings.
 */
const WALK_KEYS: ReadonlyMap<string, FieldKind> = new Map(
  Object.entries({
    host: 'hosts',
    hostname: 'hosts',
    hostnamefield: 'hosts',
    computername: 'hosts',
    devicename: 'hosts',
    devicednsname: 'hosts',
    machinename: 'hosts',
    src: 'hosts',
    dest: 'hosts',
    srchost: 'hosts',
    desthost: 'hosts',
    dvc: 'hosts',
    srcnthost: 'hosts',
    destnthost: 'hosts',
    orighost: 'hosts',
    user: 'users',
    username: 'users',
    accountname: 'users',
    userprincipalname: 'users',
    samaccountname: 'users',
    srcuser: 'users',
    destuser: 'users',
    upn: 'users',
    file: 'files',
    filename: 'files',
    filepath: 'files',
    process: 'processes',
    processname: 'processes',
    processpath: 'processes',
    image: 'processes',
    domain: 'domains',
    destdomain: 'domains',
    srcdomain: 'domains',
    urldomain: 'domains',
    query: 'domains',
  } satisfies Record<string, FieldKind>),
);

/** Message ids look like emails; source materials are links to the vendor's own console. */
const SKIPPED_KEYS = new Set(['internetmessageid', 'networkmessageid', 'sourcematerials']);
/** Links to the vendor's console or API: `FalconHostLink`, `results_link`, `alertWebUrl`, `AlertLinks`, `AlertLinkHref`. */
const SKIPPED_SUFFIXES = ['link', 'links', 'href', 'weburl'];

/**
 * What the walk does with a key. Skipped: `@`-prefixed keys (OData annotations such as
 * `@odata.context`, whose `$metadata` URL is the API's, not the threat's), `_`-prefixed keys
 * (Splunk's internal fields: `_raw`, `_time`, `_cd`, `__mv_…`), and links to consoles
 * (`FalconHostLink`, `results_link`, `alertWebUrl`, `AlertLinkHref`, …).
 */
function walkHint(key: string): FieldKind | 'skip' | undefined {
  const first = key.charCodeAt(0);
  if (first === 0x40 /* @ */ || first === 0x5f /* _ */) return 'skip';
  const squashed = key.toLowerCase().replace(/[^a-z0-9]+/g, '');
  if (SKIPPED_KEYS.has(squashed) || SKIPPED_SUFFIXES.some((suffix) => squashed.endsWith(suffix))) return 'skip';
  const known = WALK_KEYS.get(squashed);
  if (known !== undefined) return known;
  // Only under a hash-named key: Falcon sensor ids and Defender device ids are hex of hash length too.
  if (squashed.includes('sha256')) return 'sha256';
  if (squashed.includes('sha1')) return 'sha1';
  if (squashed.includes('md5')) return 'md5';
  if (squashed.includes('hash')) return 'hash';
  return undefined;
}

/**
 * Collects typed observables: from vendor field maps (exact keys, no scanning) and, for shapes
 * without a map (generic payloads, Splunk result rows), from a bounded walk. De-duplicated in
 * first-seen order, at most MAX_OBSERVABLES_PER_KIND per kind, each at most MAX_OBSERVABLE_LENGTH.
 */
export class ObservableCollector {
  private readonly sets: Record<keyof Observables, Set<string>> = {
    hosts: new Set(),
    users: new Set(),
    emails: new Set(),
    ips: new Set(),
    hashes: new Set(),
    urls: new Set(),
    domains: new Set(),
    processes: new Set(),
    files: new Set(),
    md5: new Set(),
    sha1: new Set(),
    sha256: new Set(),
  };
  private budget = VALUE_BUDGET;
  private textBudget = TEXT_BUDGET;

  /** A value (or a list of values) a vendor documents as holding `kind`; anything else is ignored. */
  add(kind: FieldKind, value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) {
        if (this.budget <= 0) return;
        if (typeof item === 'string') this.addText(kind, item);
      }
    } else if (typeof value === 'string') {
      this.addText(kind, value);
    }
  }

  /** The fields of `map` present on `object` (own properties only). */
  addFields(object: unknown, map: FieldMap): void {
    if (!isObject(object)) return;
    for (const key in map) {
      if (Object.hasOwn(object, key)) this.add(map[key]!, object[key]);
    }
  }

  /** The fields of `map` on each object of a list, e.g. Graph's `hostStates` or Falcon's `NetworkAccesses`. */
  addEach(list: unknown, map: FieldMap): void {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      if (this.budget <= 0) return;
      this.addFields(item, map);
    }
  }

  /**
   * A file or process as directory + name, joined with the directory's separator; the name alone
   * when there is no directory. A directory without a name is no file.
   */
  addPath(kind: 'files' | 'processes', directory: unknown, name: unknown): void {
    const dir = typeof directory === 'string' ? directory.trim() : '';
    const file = typeof name === 'string' ? name.trim() : '';
    if (file === '') return;
    if (dir === '') return this.add(kind, file);
    // Some vendors' "path" already ends with the name.
    if (dir.endsWith(file)) return this.add(kind, dir);
    const separator = dir.includes('\\') ? '\\' : '/';
    this.add(kind, dir.endsWith(separator) ? dir + file : `${dir}${separator}${file}`);
  }

  /**
   * A bounded, iterative walk for payloads without a field map: hosts, users, files, processes and
   * domains by key name, hashes under hash-named keys, ips, emails and urls in any other string.
   */
  walk(root: unknown): void {
    const stack: Array<{ key: string; value: unknown }> = [{ key: '', value: root }];
    while (stack.length > 0 && this.budget > 0) {
      this.budget--;
      const { key, value } = stack.pop()!;
      const hint = key === '' ? undefined : walkHint(key);
      if (hint === 'skip') continue;
      if (typeof value === 'string') {
        if (hint !== undefined) this.addText(hint, value);
        else this.scanText(value);
      } else if (Array.isArray(value)) {
        for (let i = Math.min(value.length, this.budget) - 1; i >= 0; i--) stack.push({ key, value: value[i] });
      } else if (isObject(value)) {
        const keys = Object.keys(value);
        for (let i = Math.min(keys.length, this.budget) - 1; i >= 0; i--) stack.push({ key: keys[i]!, value: value[keys[i]!] });
      }
    }
  }

  result(): Observables {
    const { hosts, users, emails, ips, hashes, urls, domains, processes, files, md5, sha1, sha256 } = this.sets;
    return {
      hosts: [...hosts],
      users: [...users],
      emails: [...emails],
      ips: [...ips],
      hashes: [...hashes],
      urls: [...urls],
      domains: [...domains],
      processes: [...processes],
      files: [...files],
      md5: [...md5],
      sha1: [...sha1],
      sha256: [...sha256],
    };
  }

  private addText(kind: FieldKind, raw: string): void {
    this.budget--;
    const value = raw.trim();
    if (value === '' || value.length > MAX_OBSERVABLE_LENGTH || PLACEHOLDERS.has(value.toLowerCase())) return;
    switch (kind) {
      case 'hosts':
        // Splunk's `host`, CIM's `src`/`dest` and Graph's host fields are often addresses.
        if (isAddress(value)) return this.put('ips', value.toLowerCase());
        if (HOST.test(value)) this.put('hosts', value);
        return;
      case 'users':
        if (!CONTROL.test(value) && value.length <= 256) this.put('users', value);
        return;
      case 'emails':
        if (EMAIL.test(value)) this.put('emails', value.toLowerCase());
        return;
      case 'ips': {
        const ip = isAddress(value) ? value : IPV4_WITH_PORT.exec(value)?.[1];
        if (ip !== undefined && isAddress(ip)) this.put('ips', ip.toLowerCase());
        return;
      }
      case 'urls':
        if (isThreatUrl(value)) this.put('urls', value);
        return;
      case 'domains': {
        const domain = value.toLowerCase().replace(/\.$/, '');
        if (DOMAIN.test(domain) && isIP(domain) === 0) this.put('domains', domain);
        return;
      }
      case 'processes':
      case 'files':
        if (!CONTROL.test(value)) this.put(kind, value);
        return;
      default:
        return this.addHash(value, kind === 'hash' ? undefined : kind);
    }
  }

  /** A digest of the named algorithm (its length must agree), or of the one its length implies. */
  private addHash(value: string, algorithm: HashAlgorithm | undefined): void {
    const implied = Object.hasOwn(HASH_LENGTHS, value.length) ? HASH_LENGTHS[value.length] : undefined;
    if (implied === undefined || (algorithm !== undefined && algorithm !== implied) || !HEX.test(value)) return;
    // All-zero digests are Falcon's "no hash" filler.
    if (!/[1-9a-f]/i.test(value)) return;
    const digest = value.toLowerCase();
    this.put('hashes', digest);
    this.put(implied, digest);
  }

  /** Free text (a log line, a message body): ips, emails and urls wherever they stand. */
  private scanText(value: string): void {
    if (this.textBudget <= 0) return;
    const text = value.slice(0, Math.min(MAX_TEXT_PER_STRING, this.textBudget));
    this.textBudget -= text.length;
    for (const match of text.match(URL_IN_TEXT) ?? []) this.addText('urls', trimEnd(match, URL_TRAILERS));
    for (const raw of text.split(TOKEN_SEPARATORS)) {
      const token = trimEnd(raw.replace(/^mailto:/i, ''), TOKEN_TRAILERS);
      if (token.includes('@')) this.addText('emails', token);
      else if (isAddress(token)) this.put('ips', token.toLowerCase());
    }
  }

  private put(kind: keyof Observables, value: string): void {
    const set = this.sets[kind];
    // Every path bounds its values already; this keeps one that did not from failing the incident's schema.
    if (set.size < MAX_OBSERVABLES_PER_KIND && value.length <= MAX_OBSERVABLE_LENGTH) set.add(value);
  }
}

/**
 * An IP address. node's isIP takes an IPv6 zone of any length (`::%` followed by anything up to a
 * separator), so a sender's text could make an "address" of megabytes: 45 characters of address
 * and a short interface name are all a real one holds.
 */
function isAddress(value: string): boolean {
  return value.length <= MAX_ADDRESS_LENGTH && isIP(value) !== 0;
}

/**
 * `text` without its trailing run of `chars`. A loop, not `replace(/[…]+$/)`: that regex retries
 * from every character of a long run and so takes quadratic time on `http://a` + 60,000 dots + `x`.
 */
function trimEnd(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1]!)) end--;
  return text.slice(0, end);
}

/** An http(s) URL with a host that is not an API's own metadata document (`…/$metadata#…`). */
function isThreatUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value) || value.includes('/$metadata')) return false;
  try {
    return new URL(value).hostname !== '';
  } catch {
    return false;
  }
}

/** Observables of a payload without a field map: the walk alone. */
export function walkObservables(root: unknown): Observables {
  const found = new ObservableCollector();
  found.walk(root);
  return found.result();
}
