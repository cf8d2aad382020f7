import { consoleLog, provideServices, type Services } from '@journey/embedded';
import type { MongoStore } from '@journey/mongo';
import type { Redis } from 'ioredis';
import { mongoServerName } from './mongo-meter.js';
import { redisVersion } from './redis-meter.js';

/** The servers a benchmark runs on: REDIS_URL / MONGODB_URI when given, else embedded ones, as `npm start` does. */
export async function benchServers(): Promise<Services> {
  const services = await provideServices({ log: consoleLog });
  console.log(`MongoDB: ${services.mongo}\nRedis:   ${services.redis}`);
  return services;
}

/** Deletes every key of a benchmark's prefix (SCAN is fine here: a benchmark's own keys, after the run). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`{${prefix}*`, `${prefix}:*`, `bull:{${prefix}-*`]) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
      cursor = next;
      if (found.length > 0) await redis.unlink(...found);
    } while (cursor !== '0');
  }
}

/** Prints which servers a run is on, as the servers themselves report it (buildInfo, INFO server). */
export async function printServerVersions(mongo: MongoStore, redis: Redis): Promise<{ mongo: string; redis: string }> {
  const versions = { mongo: await mongoServerName(mongo), redis: `Redis ${await redisVersion(redis)}` };
  console.log(`MongoDB server: ${versions.mongo}\nRedis server:   ${versions.redis}`);
  return versions;
}
