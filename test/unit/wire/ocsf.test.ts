import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ocsfAttacks } from '../../../src/wire/ocsf.js';

const ids = (attacks: Record<string, any>[]) =>
  attacks.map((attack) => [attack.tactic?.uid, attack.technique?.uid, attack.sub_technique?.uid].map((id) => id ?? '-').join(' '));

describe('OCSF attacks from MITRE ids', () => {
  it('pairs every technique with the one tactic given, and splits a sub-technique from its technique', () => {
    assert.deepEqual(ids(ocsfAttacks(['TA0002'], ['T1059.001', 'T1204'])), ['TA0002 T1059 T1059.001', 'TA0002 T1204 -']);
  });

  it('pairs nothing by guess when several tactics are given: each id is an attack of its own', () => {
    assert.deepEqual(ids(ocsfAttacks(['TA0002', 'TA0005'], ['T1059'])), ['- T1059 -', 'TA0002 - -', 'TA0005 - -']);
  });

  it('gives tactics without techniques as attacks of their own, named, and nothing for no ids', () => {
    const [attack] = ocsfAttacks(['TA0011'], []);
    assert.deepEqual(attack, { tactic: { uid: 'TA0011', name: 'Command and Control', src_url: 'https://attack.mitre.org/tactics/TA0011/' } });
    assert.deepEqual(ocsfAttacks([], []), []);
  });
});
