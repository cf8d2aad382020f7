import { ConnectionClosedError } from 'bullmq';

/** Connection-level error codes: the server went away or cannot be reached. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);
/** Replies of a server that cannot serve right now (loading its data after a restart, a cluster failing over). */
const BUSY_REPLIES = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN)\b/;
/** What ioredis says when a command cannot be sent or answered because the connection is down. */
const NOT_SENT =
  /Connection is closed|Stream isn't writeable|Cluster isn't ready|enableOfflineQueue options is false|Reached the max retries per request limit|None of startup nodes is available/;

/**
 * Whether an error means Redis could not be reached or could not serve: the same call succeeds once it is back.
 * The API answers 503 for it; a worker retries its job.
 */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof ConnectionClosedError || error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return BUSY_REPLIES.test(error.message) || NOT_SENT.test(error.message);
}
