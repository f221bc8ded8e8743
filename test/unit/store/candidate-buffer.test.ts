import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CandidateBuffer } from '../../../src/store/mongo/claims.js';

const T0 = new Date('2026-12-04T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

/** A look that returns the given batches in turn and counts how often it ran. */
function looks(...batches: string[][]) {
  let calls = 0;
  return {
    read: () => Promise.resolve(batches[calls++] ?? []),
    get calls() {
      return calls;
    },
  };
}

describe("the claimers' shared candidates (one look per batch, not per claim)", () => {
  it('hands one look’s candidates out one at a time, oldest first, then looks again', async () => {
    const buffer = new CandidateBuffer<string>();
    const look = looks(['a', 'b', 'c'], ['d']);
    assert.equal(await buffer.next(look.read, T0), 'a');
    assert.equal(await buffer.next(look.read, T0), 'b');
    assert.equal(await buffer.next(look.read, T0), 'c');
    assert.equal(look.calls, 1);
    assert.equal(await buffer.next(look.read, T0), 'd');
    assert.equal(await buffer.next(look.read, T0), undefined, 'a look that finds nothing: nothing is due');
    assert.equal(look.calls, 3);
  });

  it('runs one look for claimers that ask at once, and gives each candidate to one of them', async () => {
    const buffer = new CandidateBuffer<string>();
    const look = looks(['a', 'b', 'c']);
    const taken = await Promise.all([1, 2, 3, 4].map(() => buffer.next(look.read, T0)));
    assert.deepEqual(taken, ['a', 'b', 'c', undefined]);
    assert.equal(look.calls, 2, 'the fourth claimer looked again once the first look was used up');
  });

  it('looks again when the candidates are older than two seconds, or read at a later time than the claim’s', async () => {
    const buffer = new CandidateBuffer<string>();
    const look = looks(['a', 'b'], ['x', 'y'], ['z']);
    assert.equal(await buffer.next(look.read, T0), 'a');
    assert.equal(await buffer.next(look.read, at(2_000)), 'b', 'two seconds old: still offered');
    assert.equal(await buffer.next(look.read, at(2_001)), 'x', 'the next look; b was taken already');
    assert.equal(await buffer.next(look.read, at(2_000)), 'z', 'a claim at an earlier time than the look does not take its candidates');
    assert.equal(look.calls, 3);
  });

  it('lets a failed look fail its claimers and the next claim look again', async () => {
    const buffer = new CandidateBuffer<string>();
    let fail = true;
    const read = () => (fail ? Promise.reject(new Error('store down')) : Promise.resolve(['a']));
    const failed = await Promise.allSettled([buffer.next(read, T0), buffer.next(read, T0)]);
    assert.deepEqual(
      failed.map((result) => result.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal(await buffer.next(read, T0), 'a');
  });
});
