import {
  BSON,
  MongoBulkWriteError,
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
 * Server codes that say the server cannot serve right now (shutting down, not primary, unreachable host): the
 * driver's own list of errors worth retrying a read for. Not the request's fault.
 */
const UNAVAILABLE_CODES: ReadonlySet<number> = new Set([6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * Whether an error means MongoDB could not be reached or could not serve: the same call succeeds once it is back.
 * Such a failure is nobody's input's fault: the API answers 503, a worker retries its job, a drain counts nothing
 * against the record it was applying.
 */
export function isMongoUnavailableError(error: unknown): boolean {
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoOperationTimeoutError
  ) {
    return true;
  }
  if (!(error instanceof MongoError)) return false;
  if (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('ResetPool')) return true;
  if (error instanceof MongoBulkWriteError && wholeCommandFailed(error)) {
    // A bulk write that failed as a whole wraps the driver's error, keeping its fields but not its class: a network
    // error's `beforeHandshake`, a server selection error's `reason` (the topology it found).
    const wrapped = error.errorResponse as Record<string, unknown>;
    if ('beforeHandshake' in wrapped || 'reason' in wrapped) return true;
  }
  return error instanceof MongoServerError && UNAVAILABLE_CODES.has(Number(error.code));
}

/** A bulk write that wrote nothing because its command failed, not because some documents were refused. */
function wholeCommandFailed(error: MongoBulkWriteError): boolean {
  const writeErrors = (Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]).filter(Boolean);
  return writeErrors.length === 0;
}

/**
 * Codes by which a server refuses a document for what it holds. The core's storability rule is what MongoDB stores;
 * a MongoDB-protocol server may refuse more, and sizes are only known once an update is applied.
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

/** A write refused because a document with that `_id` (or unique key) exists: someone else inserted it first. */
export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/** Indexes (in the write's order) of the documents an unordered bulk write refused as duplicate keys; null when anything else failed. */
export function duplicateKeyIndexes(error: unknown): number[] | null {
  if (!(error instanceof MongoBulkWriteError)) return null;
  const writeErrors = (Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]) as Array<{
    code: number;
    index: number;
  }>;
  if (writeErrors.length === 0 || writeErrors.some((each) => each.code !== 11000)) return null;
  return writeErrors.map((each) => each.index);
}

export function isOnlyDuplicateKeys(error: unknown): boolean {
  return duplicateKeyIndexes(error) !== null;
}
