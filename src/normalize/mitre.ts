import type { MitreAttack } from '../incidents/model.js';
import { MAX_MITRE_IDS } from '../incidents/schema.js';

/**
 * MITRE ATT&CK ids from what vendors send: ids (`TA0006`, `T1059.001`) as text or lists, and the
 * Enterprise tactics by name, since Graph's `category` and Falcon's `Tactic` carry names
 * (`CredentialAccess`, `Credential Access`). Technique names are not mapped: there are hundreds
 * and they change; vendors that name a technique also send its id.
 */

const TACTIC_ID = /^TA\d{4}$/i;
const TECHNIQUE_ID = /^T\d{4}(?:\.\d{3})?$/i;
/** Lists longer than this are not ATT&CK annotations; look no further. */
const MAX_VALUES_READ = 64;

/** Enterprise ATT&CK tactics by id, with their names as ATT&CK writes them. */
export const TACTIC_NAMES: Readonly<Record<string, string>> = {
  TA0043: 'Reconnaissance',
  TA0042: 'Resource Development',
  TA0001: 'Initial Access',
  TA0002: 'Execution',
  TA0003: 'Persistence',
  TA0004: 'Privilege Escalation',
  TA0005: 'Defense Evasion',
  TA0006: 'Credential Access',
  TA0007: 'Discovery',
  TA0008: 'Lateral Movement',
  TA0009: 'Collection',
  TA0011: 'Command and Control',
  TA0010: 'Exfiltration',
  TA0040: 'Impact',
};

const squash = (name: string) => name.toLowerCase().replace(/[^a-z]+/g, '');

/** The tactics by name squashed to lower-case letters, the way vendors' spellings are compared. */
const TACTICS_BY_NAME: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(TACTIC_NAMES).map(([id, name]) => [squash(name), id]));

export class MitreCollector {
  private readonly tactics = new Set<string>();
  private readonly techniques = new Set<string>();

  /** Tactic ids or names, as one value or a list. */
  tactic(value: unknown): void {
    for (const text of texts(value)) {
      if (TACTIC_ID.test(text)) this.put(this.tactics, text.toUpperCase());
      else {
        const squashed = squash(text);
        if (Object.hasOwn(TACTICS_BY_NAME, squashed)) this.put(this.tactics, TACTICS_BY_NAME[squashed]!);
      }
    }
  }

  /** Technique ids (sub-techniques included), as one value or a list. */
  technique(value: unknown): void {
    for (const text of texts(value)) {
      if (TECHNIQUE_ID.test(text)) this.put(this.techniques, text.toUpperCase());
    }
  }

  result(): MitreAttack {
    return { tactics: [...this.tactics], techniques: [...this.techniques] };
  }

  private put(set: Set<string>, id: string): void {
    if (set.size < MAX_MITRE_IDS) set.add(id);
  }
}

function texts(value: unknown): string[] {
  const list = Array.isArray(value) ? value.slice(0, MAX_VALUES_READ) : [value];
  return list.filter((item): item is string => typeof item === 'string' && item.length <= 64).map((item) => item.trim());
}

/** For formats whose vendors send no ATT&CK ids. */
export function noMitre(): MitreAttack {
  return { tactics: [], techniques: [] };
}
