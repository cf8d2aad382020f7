import { isMongoUnavailableError } from '@journey/mongo';
import { isRedisUnavailableError } from '@journey/redis';

export { documentRefusal } from '@journey/mongo';

export type Store = 'MongoDB' | 'Redis';

/**
 * Seconds a client should wait before retrying a 503: Redis connections reconnect within about two seconds, and
 * a MongoDB request waits up to five for a server before it gives up.
 */
export const RETRY_AFTER_SECONDS: Readonly<Record<Store, number>> = { MongoDB: 5, Redis: 2 };

/**
 * Which store `error` says is unavailable, or null when it says something else, so a request that was fine gets a
 * 503 to retry, whichever route or plugin (auth, the dashboard) made the call.
 */
export function unavailableStore(error: unknown): Store | null {
  if (isMongoUnavailableError(error)) return 'MongoDB';
  if (isRedisUnavailableError(error)) return 'Redis';
  return null;
}
