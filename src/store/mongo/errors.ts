import {
  MongoClientClosedError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { StoreUnavailableError } from '../../core/errors.js';
import type { StoreFault, StoreFaultKind } from '../store.js';

/**
 * Server codes that retrying will not fix, only someone acting on the deployment: the store turns
 * unhealthy on them (docs/operations.md, "Store faults"). They win over the "unavailable" rules
 * below: the driver labels a failed authentication ResetPool, and an unsatisfiable write concern
 * arrives as a MongoWriteConcernError, both of which would otherwise pass for an outage.
 */
const FAULT_CODES: ReadonlyMap<number, StoreFaultKind> = new Map([
  // The server failed the operation itself: FerretDB reports its storage's errors (a damaged or
  // full file under it) this way; elections, shutdowns and timeouts have codes of their own.
  [1, 'server_error'], // InternalError
  [11, 'auth'], // UserNotFound
  [13, 'auth'], // Unauthorized: the user lacks a role the operation needs
  [18, 'auth'], // AuthenticationFailed: the URI's credentials are refused
  [79, 'write_concern'], // UnknownReplWriteConcern
  [100, 'write_concern'], // UnsatisfiableWriteConcern: e.g. more members than the set has
  [14031, 'disk_full'], // OutOfDiskSpace
]);

/**
 * FerretDB passes its PostgreSQL's errors on as InternalError (code 1) with the SQLSTATE in the
 * message: class 08 (connection exception) and 57P01–57P03 (the server shutting down, crashed or
 * still starting) are its backend restarting, the next operation gets a fresh connection: not now,
 * rather than broken.
 */
const BACKEND_RESTARTING = /\(SQLSTATE (08[0-9A-Z]{3}|57P0[1-3])\)/;

function isBackendRestarting(error: MongoError): boolean {
  return error.code === 1 && BACKEND_RESTARTING.test(error.message);
}

/** The fault a MongoDB error is; undefined when it is not one. */
export function mongoFault(error: unknown): StoreFault | undefined {
  if (!(error instanceof MongoError) || typeof error.code !== 'number' || isBackendRestarting(error)) return undefined;
  const kind = FAULT_CODES.get(error.code);
  return kind && { kind, reason: `MongoDB: ${error.message} (code ${error.code})` };
}

/**
 * Server codes that mean "not now" rather than "wrong request": no primary, shutting down, stepped
 * down, network trouble reported by a mongos, a write concern or time limit not met.
 */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  64, // WriteConcernTimeout
  89, // NetworkTimeout
  91, // ShutdownInProgress
  133, // FailedToSatisfyReadPreference
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * Socket errors the driver (7.x) sometimes lets through unwrapped, e.g. EPIPE when it writes a
 * command to a connection the server closed as it died.
 */
const SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH']);

const UNAVAILABLE_LABELS = [
  MongoErrorLabel.RetryableWriteError,
  MongoErrorLabel.ResetPool,
  MongoErrorLabel.PoolRequestedRetry,
  MongoErrorLabel.SystemOverloadedError,
];

/** true when the failure means the database cannot serve us right now (503), not a bug (500). */
export function isUnavailable(error: unknown): boolean {
  if (mongoFault(error)) return false;
  if (
    error instanceof MongoNetworkError || // includes pool-cleared and network timeouts
    error instanceof MongoServerSelectionError ||
    error instanceof MongoWriteConcernError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoNotConnectedError
  ) {
    return true;
  }
  if (!(error instanceof MongoError)) return SOCKET_ERROR_CODES.has(String((error as { code?: unknown } | null)?.code));
  if (error.name === 'MongoWaitQueueTimeoutError') return true;
  if (typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code)) return true;
  if (isBackendRestarting(error)) return true;
  return UNAVAILABLE_LABELS.some((label) => error.hasErrorLabel(label));
}

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/**
 * Runs a database operation, turning "unavailable" failures and faults into the store's
 * StoreUnavailableError (503); a fault is also passed to `onFault`.
 */
export async function unavailableAsStoreError<T>(operation: () => Promise<T>, onFault: (fault: StoreFault) => void): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const fault = mongoFault(error);
    if (fault) {
      onFault(fault);
      throw new StoreUnavailableError(fault.reason, error);
    }
    if (isUnavailable(error)) throw new StoreUnavailableError('MongoDB is unavailable', error);
    throw error;
  }
}
