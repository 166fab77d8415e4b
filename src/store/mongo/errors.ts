// Which MongoDB failures mean "the store cannot be used right now": the driver cannot reach a
// server (network, server selection, pool cleared, client closed), or the deployment cannot take
// writes at the moment (no primary during an election, shutting down, out of disk space).
import mongoose from 'mongoose';
import type { UnavailableReason } from '../errors.ts';

const { MongoNetworkError, MongoServerSelectionError, MongoNotConnectedError, MongoTopologyClosedError, MongoServerClosedError, MongoServerError } = mongoose.mongo;

// Server error codes (src/mongo/base/error_codes.yml in the server's source).
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);
const OUT_OF_DISK_SPACE = 14031;

export function mongoUnavailableReason(error: unknown): UnavailableReason | undefined {
  if (
    error instanceof MongoNetworkError
    || error instanceof MongoServerSelectionError
    || error instanceof MongoNotConnectedError
    || error instanceof MongoTopologyClosedError
    || error instanceof MongoServerClosedError
    || error instanceof mongoose.Error.MongooseServerSelectionError
  ) {
    return 'unreachable';
  }
  if (error instanceof MongoServerError && typeof error.code === 'number') {
    if (error.code === OUT_OF_DISK_SPACE) return 'full';
    if (UNAVAILABLE_CODES.has(error.code)) return 'unreachable';
  }
  return undefined;
}
