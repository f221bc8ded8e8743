import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineBudget } from '../../../src/log/line-budget.js';

describe('LineBudget', () => {
  it('lets perSecond lines through each second and reports the skipped ones on the next line', () => {
    const budget = new LineBudget(2);
    assert.deepEqual([budget.take(0), budget.take(10), budget.take(20), budget.take(30)], [0, 0, undefined, undefined]);
    assert.equal(budget.take(999), undefined);
    assert.equal(budget.take(1000), 3, 'the first line of the next second says three were skipped');
    assert.equal(budget.take(1001), 0);
  });
});
