import type { Config, Logger } from '@journey/config';
import type { MongoStore } from '@journey/mongo';
import type { RedisClient } from '@journey/redis';

/** What the HTTP edge is built from; tests pass their own (real servers, unique names). */
export interface AppDeps {
  config: Config;
  logger: Logger;
  mongo: MongoStore;
  redis: RedisClient;
}
