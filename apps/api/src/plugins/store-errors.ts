import { BSON, MongoServerError } from 'mongodb';

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
