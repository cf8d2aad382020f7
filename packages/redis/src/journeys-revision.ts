import type { RedisClient } from './connection.js';
import { UnexpectedReplyError } from './errors.js';
import type { Keys } from './keys.js';

/**
 * A counter that every journey lifecycle change (publish, pause, resume, archive) bumps after its MongoDB write and
 * before it answers. Workers read it after reading the records they are about to apply, and reload their journeys
 * when it moved: an event accepted after a publish answered sees the journey, one accepted after a pause does not.
 */
export interface JourneysRevision {
  bump(): Promise<number>;
  /** The current revision; 0 before the first bump (or after Redis lost it: workers then reload too). */
  current(): Promise<number>;
}

export function createJourneysRevision(redis: RedisClient, keys: Keys): JourneysRevision {
  const key = keys.journeysRevision();
  return {
    bump: () => redis.incr(key),
    async current() {
      const value = await redis.get(key);
      if (value === null) return 0;
      const revision = Number(value);
      if (!Number.isSafeInteger(revision) || revision < 0)
        throw new UnexpectedReplyError({ script: 'GET journeys revision', reply: value });
      return revision;
    },
  };
}
