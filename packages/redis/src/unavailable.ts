/** Connection-level error codes: the server went away or cannot be reached. */
const CONNECTION_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);
/** Reply prefixes of a server that cannot serve right now (loading its data, a cluster reconfiguring). */
const BUSY_REPLIES = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY)\b/;
/** What ioredis says when a command cannot be sent: the connection is closed, or not ready and queueing is off. */
const NOT_SENT = /Connection is closed|Stream isn't writeable|enableOfflineQueue options is false|Reached the max retries per request limit|None of startup nodes is available/;

/**
 * Whether an error means Redis could not be reached or could not serve: the same call succeeds once it is back.
 * The API answers 503 for it; a worker retries its job.
 */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return BUSY_REPLIES.test(error.message) || NOT_SENT.test(error.message);
}
