import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoErrorLabel, MongoServerError, MongoWriteConcernError } from 'mongodb';
import { isUnavailable, mongoFault } from '../../../src/store/mongo/errors.js';

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

describe('which MongoDB failures are faults (the store turns unhealthy)', () => {
  it('refused credentials, missing roles, an unsatisfiable write concern, a full disk, a server failure', () => {
    // As the driver hands over a failed authentication: labelled to reset the pool, like an outage.
    const authentication = new MongoServerError({ code: 18, errmsg: 'Authentication failed.' });
    authentication.addErrorLabel(MongoErrorLabel.ResetPool);
    assert.deepEqual(mongoFault(authentication), { kind: 'auth', reason: 'MongoDB: Authentication failed. (code 18)' });
    assert.equal(isUnavailable(authentication), false, 'a fault is not an outage');
    assert.equal(mongoFault(new MongoServerError({ code: 13, errmsg: 'not authorized on tw to execute command { insert: … }' }))?.kind, 'auth');
    const writeConcern = new MongoWriteConcernError({ writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' } } as never);
    assert.equal(mongoFault(writeConcern)?.kind, 'write_concern');
    assert.equal(isUnavailable(writeConcern), false);
    assert.equal(mongoFault(new MongoServerError({ code: 14031, errmsg: 'Out of disk space' }))?.kind, 'disk_full');
    assert.equal(mongoFault(new MongoServerError({ code: 1, errmsg: 'database disk image is malformed (11)' }))?.kind, 'server_error');
  });

  it('outages, elections and bad requests are not faults', () => {
    const timeout = new MongoWriteConcernError({ writeConcernError: { code: 64, errmsg: 'waiting for replication timed out' } } as never);
    assert.equal(mongoFault(timeout), undefined);
    assert.equal(isUnavailable(timeout), true);
    assert.equal(mongoFault(new MongoServerError({ code: 189, errmsg: 'stepped down' })), undefined);
    assert.equal(mongoFault(new MongoServerError({ code: 11000, errmsg: 'duplicate key' })), undefined);
    assert.equal(mongoFault(new TypeError('bug')), undefined);
  });

  it("FerretDB's backend restarting is an outage, its storage failing a fault", () => {
    // As FerretDB on PostgreSQL answers the first operation after its PostgreSQL restarted.
    const restarted = new MongoServerError({
      code: 1,
      errmsg: '[collection.go:109 postgresql.(*collection).Query] FATAL: terminating connection due to administrator command (SQLSTATE 57P01)',
    });
    assert.equal(mongoFault(restarted), undefined);
    assert.equal(isUnavailable(restarted), true);
    const refused = new MongoServerError({ code: 1, errmsg: 'failed to connect to `host=127.0.0.1`: dial error (SQLSTATE 08006)' });
    assert.equal(isUnavailable(refused), true);
    const damaged = new MongoServerError({ code: 1, errmsg: 'ERROR: invalid page in block 0 of relation base/16384/16390 (SQLSTATE XX001)' });
    assert.equal(mongoFault(damaged)?.kind, 'server_error');
    assert.equal(isUnavailable(damaged), false);
  });
});
