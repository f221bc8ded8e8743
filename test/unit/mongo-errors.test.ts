import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoServerError } from 'mongodb';
import { isUnavailable } from '../../src/store/mongo/errors.js';

describe('which MongoDB failures answer 503 instead of 500', () => {
  it('treats a raw socket error the driver lets through as unavailable', () => {
    // Seen when FerretDB is killed mid-write: the driver rethrows node's EPIPE unwrapped.
    const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    assert.equal(isUnavailable(epipe), true);
    assert.equal(isUnavailable(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
  });

  it('treats shutdown codes as unavailable, other errors not', () => {
    assert.equal(isUnavailable(new MongoServerError({ code: 91, errmsg: 'shutting down' })), true);
    assert.equal(isUnavailable(new MongoServerError({ code: 2, errmsg: 'bad value' })), false);
    assert.equal(isUnavailable(new TypeError('bug')), false);
    assert.equal(isUnavailable(undefined), false);
  });
});
