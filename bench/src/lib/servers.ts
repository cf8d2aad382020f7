import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLog, provideServices, type Services } from '@journey/embedded';
import type { MongoStore } from '@journey/mongo';
import type { Redis } from 'ioredis';
import { mongoServerName } from './mongo-meter.js';
import { redisVersion } from './redis-meter.js';
import type { Sink } from './sink.js';

/**
 * The servers a benchmark runs on: REDIS_URL / MONGODB_URI when given, else embedded ones, as `npm test` starts them
 * (in memory), or with `persistent` as `npm start` does (the store's file and Redis's AOF, in a temporary directory).
 */
export async function benchServers(options: { persistent?: boolean } = {}): Promise<Services> {
  const dataDir = options.persistent ? mkdtempSync(join(tmpdir(), 'journey-bench-')) : undefined;
  const services = await provideServices({ log: consoleLog, dataDir });
  console.log(`MongoDB: ${services.mongo}\nRedis:   ${services.redis}`);
  if (!dataDir) return services;
  return {
    ...services,
    async stop() {
      await services.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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

/** Ends a run: its sink, its Redis keys and MongoDB database, its connections, and the servers it started. */
export async function endRun(run: { sink: Sink; redis: Redis; prefix: string; mongo: MongoStore; services: Services }): Promise<void> {
  await run.sink.close();
  await deletePrefix(run.redis, run.prefix);
  await run.mongo.db.dropDatabase().catch(() => undefined);
  await run.mongo.close();
  run.redis.disconnect();
  await run.services.stop();
}

/** Prints which servers a run is on, as the servers themselves report it (buildInfo, INFO server). */
export async function printServerVersions(mongo: MongoStore, redis: Redis): Promise<{ mongo: string; redis: string }> {
  const versions = { mongo: await mongoServerName(mongo), redis: `Redis ${await redisVersion(redis)}` };
  console.log(`MongoDB server: ${versions.mongo}\nRedis server:   ${versions.redis}`);
  return versions;
}

/** How to watch a run in the operators' view: an API process on the run's servers and key prefix. */
export function printLiveView(services: Pick<Services, 'redisUrl' | 'mongoUri'>, prefix: string): void {
  // Only embedded servers' URLs are printed: a given one may carry credentials.
  const shown = (url: string, name: string) => (url.includes('@') ? `<your ${name}>` : url);
  console.log(
    `watch it live: REDIS_URL=${shown(services.redisUrl, 'REDIS_URL')} REDIS_PREFIX=${prefix} MONGODB_URI=${shown(services.mongoUri, 'MONGODB_URI')} MONGODB_DB=opsview ` +
      'ADMIN_API_KEY=<key> PORT=3999 node --conditions=@journey/source --import tsx ../apps/api/src/main.ts (from bench/), ' +
      'then GET /v1/ops/queues, /metrics or /ops/dashboard',
  );
}
