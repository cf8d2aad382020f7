import { ConnectionClosedError } from 'bullmq';
import {
  BSON,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

/**
 * MongoDB error codes by which a server refuses a document for what it holds. The core's storability rule
 * (`unstorableIssues`) is what MongoDB stores; a MongoDB-protocol server may refuse more (FerretDB answers
 * BadValue to nested arrays), and sizes are only known once the update is applied.
 */
const REFUSED_DOCUMENT_CODES: ReadonlySet<number> = new Set([
  2, // BadValue
  15, // Overflow: nested too deeply
  22, // InvalidBSON
  52, // DollarPrefixedFieldName
  56, // EmptyFieldName
  57, // DottedFieldName
  10334, // BSONObjectTooLarge
  17419, // the document an update makes is larger than 16 MB
]);

/** Why the store refused to store a document for its content, or null when `error` is something else. */
export function documentRefusal(error: unknown): string | null {
  if (error instanceof MongoServerError && REFUSED_DOCUMENT_CODES.has(Number(error.code))) return error.errmsg ?? error.message;
  // The driver's encoder refuses some values before sending them (a NUL in a field name, a document too large).
  if (error instanceof BSON.BSONError) return error.message;
  return null;
}

/**
 * MongoDB server errors that say the server cannot serve right now (shutting down, not primary, unreachable
 * host): the driver's own list of errors worth retrying a read for.
 */
const UNAVAILABLE_SERVER_CODES: ReadonlySet<number> = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 134]);

/** ioredis' errors for a command that could not be sent or answered because the connection is down. */
const REDIS_CONNECTION_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
];
/** Redis replies that say the server cannot serve right now (loading its data after a restart, failing over). */
const REDIS_UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN) /;

export type Store = 'MongoDB' | 'Redis';

/**
 * Seconds a client should wait before retrying a 503: Redis connections reconnect within about two seconds, and
 * a MongoDB request waits up to five for a server before it gives up.
 */
export const RETRY_AFTER_SECONDS: Readonly<Record<Store, number>> = { MongoDB: 5, Redis: 2 };

/**
 * Which store `error` says is unavailable, or null when it says something else. Recognises the drivers' own
 * errors for a server that cannot be reached or cannot serve, so a request that was fine gets a 503 to retry,
 * whichever route or plugin (auth, the dashboard) made the call.
 */
export function unavailableStore(error: unknown): Store | null {
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoOperationTimeoutError ||
    (error instanceof MongoServerError && UNAVAILABLE_SERVER_CODES.has(Number(error.code)))
  ) {
    return 'MongoDB';
  }
  if (error instanceof MongoError || !(error instanceof Error)) return null;
  if (error instanceof ConnectionClosedError || error.name === 'MaxRetriesPerRequestError') return 'Redis';
  if (REDIS_CONNECTION_MESSAGES.includes(error.message)) return 'Redis';
  if (error.name === 'ReplyError' && REDIS_UNAVAILABLE_REPLY.test(error.message)) return 'Redis';
  return null;
}
