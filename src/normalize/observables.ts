import { isIP } from 'node:net';
import type { Observables } from '../incidents/model.js';
import { MAX_OBSERVABLE_LENGTH, MAX_OBSERVABLES_PER_KIND } from '../incidents/schema.js';
import { isObject } from './fields.js';

export type ObservableKind = keyof Observables;
export type KnownObservables = Partial<Record<ObservableKind, readonly unknown[]>>;

/** The walk over nested details stops after this many values or characters of text. */
const NODE_BUDGET = 5_000;
const TEXT_BUDGET = 256 * 1024;
const MAX_TEXT_PER_STRING = 64 * 1024;

const HOST = /^[\p{L}\p{N}_.-]{1,253}$/u;
const EMAIL = /^[^\s@<>()[\],;:"\\]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i;
const URL_IN_TEXT = /https?:\/\/[^\s"'<>]+/gi;
const TOKEN_SEPARATORS = /[\s,;<>()[\]{}"'|=]+/;
const PLACEHOLDERS = new Set(['-', 'n/a', 'na', 'null', 'none', 'unknown', '(none)']);

/** Keys (squashed to lower-case letters and digits) whose string values are hosts or users. */
const HOST_KEYS = new Set([
  'host', 'hostname', 'hostnamefield', 'computername', 'devicename', 'devicednsname', 'machinename',
  'src', 'dest', 'srchost', 'desthost', 'dvc',
]);
const USER_KEYS = new Set(['user', 'username', 'accountname', 'userprincipalname', 'samaccountname', 'srcuser', 'destuser', 'upn']);
/** Links to the vendor's console point at the vendor, not the threat; message ids look like emails. */
const SKIPPED_KEYS = new Set(['falconhostlink', 'resultslink', 'alertweburl', 'incidentweburl', 'alertlinkhref', 'internetmessageid']);

type KeyHint = 'hosts' | 'users' | 'hashes' | 'skip';

function hintFor(key: string): KeyHint | undefined {
  const squashed = key.toLowerCase().replace(/[^a-z0-9]+/g, '');
  if (SKIPPED_KEYS.has(squashed)) return 'skip';
  if (HOST_KEYS.has(squashed)) return 'hosts';
  if (USER_KEYS.has(squashed)) return 'users';
  // Only under a hash-named key: Falcon sensor ids and Defender device ids are hex of hash length too.
  if (/sha256|sha1|md5|hash/.test(squashed)) return 'hashes';
  return undefined;
}

/**
 * Observables from the fields a format knows (first, in their order) and then from a bounded,
 * iterative walk over `scan`: hosts and users by key name, hashes under hash-named keys, ips,
 * emails and urls anywhere in string values. Deduplicated, in first-seen order, bounded.
 */
export function extractObservables(scan: unknown, known: KnownObservables = {}): Observables {
  const found = new Collector();
  for (const [kind, values] of Object.entries(known) as [ObservableKind, readonly unknown[]][]) {
    for (const value of values) found.add(kind, value);
  }
  found.walk(scan);
  return found.result();
}

class Collector {
  private readonly sets: Record<ObservableKind, Set<string>> = {
    hosts: new Set(), users: new Set(), emails: new Set(), ips: new Set(), hashes: new Set(), urls: new Set(),
  };
  private textBudget = TEXT_BUDGET;

  add(kind: ObservableKind, value: unknown): void {
    if (typeof value !== 'string') return;
    const trimmed = value.trim();
    if (trimmed === '' || trimmed.length > MAX_OBSERVABLE_LENGTH) return;
    // Splunk's `host` and CIM's `src`/`dest` are often addresses.
    const as = kind === 'hosts' && isIP(trimmed) ? 'ips' : kind;
    const valid = VALIDATORS[as](trimmed);
    if (valid !== undefined) this.put(as, valid);
  }

  walk(root: unknown): void {
    const stack: Array<{ key: string; value: unknown }> = [{ key: '', value: root }];
    for (let budget = NODE_BUDGET; stack.length > 0 && budget > 0; budget--) {
      const { key, value } = stack.pop()!;
      if (typeof value === 'string') this.visitString(key, value);
      else if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ key, value: value[i] });
      } else if (isObject(value)) {
        const keys = Object.keys(value);
        for (let i = keys.length - 1; i >= 0; i--) stack.push({ key: keys[i]!, value: value[keys[i]!] });
      }
    }
  }

  result(): Observables {
    const list = (kind: ObservableKind) => [...this.sets[kind]];
    return { hosts: list('hosts'), users: list('users'), emails: list('emails'), ips: list('ips'), hashes: list('hashes'), urls: list('urls') };
  }

  private visitString(key: string, value: string): void {
    const hint = hintFor(key);
    if (hint === 'skip') return;
    if (hint !== undefined) return this.add(hint, value);
    this.scanText(value);
  }

  /** Free text (a log line, a message body): ips, emails and urls wherever they stand. */
  private scanText(value: string): void {
    if (this.textBudget <= 0) return;
    const text = value.slice(0, Math.min(MAX_TEXT_PER_STRING, this.textBudget));
    this.textBudget -= text.length;
    for (const match of text.match(URL_IN_TEXT) ?? []) this.add('urls', match.replace(/[.,;:)\]]+$/, ''));
    for (const raw of text.split(TOKEN_SEPARATORS)) {
      const token = raw.replace(/^mailto:/i, '').replace(/[.:]+$/, '');
      if (token.includes('@')) this.add('emails', token);
      else if (isIP(token)) this.add('ips', token);
    }
  }

  private put(kind: ObservableKind, value: string): void {
    const set = this.sets[kind];
    if (set.size < MAX_OBSERVABLES_PER_KIND) set.add(value);
  }
}

const VALIDATORS: Record<ObservableKind, (value: string) => string | undefined> = {
  hosts: (value) => (HOST.test(value) && !PLACEHOLDERS.has(value.toLowerCase()) ? value : undefined),
  users: (value) => (/[\u0000-\u001f\u007f]/.test(value) || value.length > 256 || PLACEHOLDERS.has(value.toLowerCase()) ? undefined : value),
  emails: (value) => (EMAIL.test(value) ? value.toLowerCase() : undefined),
  ips: (value) => (isIP(value) ? value.toLowerCase() : undefined),
  // All-zero digests are Falcon's "no hash" filler.
  hashes: (value) => (HASH.test(value) && /[1-9a-f]/i.test(value) ? value.toLowerCase() : undefined),
  urls: (value) => (isHttpUrl(value) ? value : undefined),
};

function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    return new URL(value).hostname !== '';
  } catch {
    return false;
  }
}
