import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../../src/controller/work-queue.js';

const options = { baseDelayMs: 5, maxDelayMs: 1000, retriesPerSecond: 10, retryBurst: 100 };

describe('work queue', () => {
  it('holds a key once however often it is added', async () => {
    const queue = new WorkQueue(options);
    queue.add('a');
    queue.add('b');
    queue.add('a');
    assert.equal(queue.length(), 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
  });

  it('never hands a key being processed to a second worker, and requeues it on done if it was added meanwhile', async () => {
    const queue = new WorkQueue(options);
    queue.add('a');
    const key = await queue.get();
    queue.add('a');
    assert.equal(queue.length(), 0, 'not queued while processing');
    queue.done(key!);
    assert.equal(queue.length(), 1);
    assert.equal(await queue.get(), 'a');
  });

  it('wakes a waiting worker', async () => {
    const queue = new WorkQueue(options);
    const waiting = queue.get();
    queue.add('x');
    assert.equal(await waiting, 'x');
  });

  it('backs off per key exponentially up to the cap, and forget resets it', () => {
    const queue = new WorkQueue({ ...options, retryBurst: 1000, retriesPerSecond: 1000 });
    const delays = Array.from({ length: 10 }, () => queue.addRateLimited('k'));
    assert.deepEqual(delays.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(delays.at(-1), 1000);
    assert.equal(queue.numRequeues('k'), 10);
    queue.forget('k');
    assert.equal(queue.addRateLimited('k'), 5);
    queue.shutDown();
  });

  it('spreads a storm of retries by the overall bucket', () => {
    let now = 0;
    const queue = new WorkQueue({ ...options, retryBurst: 2, retriesPerSecond: 10, now: () => now });
    const delays = ['a', 'b', 'c', 'd'].map((key) => queue.addRateLimited(key));
    assert.deepEqual(delays.map(Math.round), [5, 5, 100, 200]);
    now = 1000;
    assert.equal(queue.addRateLimited('e'), 5, 'tokens refill over time');
    queue.shutDown();
  });

  it('delivers a delayed key after its delay', async () => {
    const queue = new WorkQueue(options);
    const started = Date.now();
    queue.addAfter('later', 30);
    assert.equal(await queue.get(), 'later');
    assert.ok(Date.now() - started >= 25);
  });

  it('releases waiting workers on shut down', async () => {
    const queue = new WorkQueue(options);
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined);
  });
});
