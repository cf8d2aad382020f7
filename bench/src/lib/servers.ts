import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLog, provideServices, type Services } from '@journey/embedded';
import type { MongoStore } from '@journey/mongo';
import { redisEnv } from '@journey/config';
import { deleteMatching, type RedisClient } from '@journey/redis';
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
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  for (const pattern of [`{${prefix}*`, `${prefix}:*`, `bull:{${prefix}-*`]) await deleteMatching(redis, pattern);
}

/** Ends a run: its sink, its Redis keys and MongoDB database, its connections, and the servers it started. */
export async function endRun(run: {
  sink: Sink;
  redis: RedisClient;
  prefix: string;
  mongo: MongoStore;
  services: Services;
}): Promise<void> {
  await run.sink.close();
  await deletePrefix(run.redis, run.prefix);
  await run.mongo.db.dropDatabase().catch(() => undefined);
  await run.mongo.close();
  run.redis.disconnect();
  await run.services.stop();
}

/** Prints which servers a run is on, as the servers themselves report it (buildInfo, INFO server). */
export async function printServerVersions(mongo: MongoStore, redis: RedisClient): Promise<{ mongo: string; redis: string }> {
  const versions = { mongo: await mongoServerName(mongo), redis: `Redis ${await redisVersion(redis)}` };
  console.log(`MongoDB server: ${versions.mongo}\nRedis server:   ${versions.redis}`);
  return versions;
}

/** How to watch a run in the operators' view: an API process on the run's servers and key prefix. */
export function printLiveView(services: Pick<Services, 'redisTarget' | 'mongoUri'>, prefix: string): void {
  // Only embedded servers' URLs are printed: a given one may carry credentials.
  const shown = (url: string, name: string) => (url.includes('@') ? `<your ${name}>` : url);
  const redis = Object.entries(redisEnv(services.redisTarget)).map(([name, value]) => `${name}=${shown(value, name)}`);
  console.log(
    `watch it live: ${redis.join(' ')} REDIS_PREFIX=${prefix} MONGODB_URI=${shown(services.mongoUri, 'MONGODB_URI')} MONGODB_DB=opsview ` +
      'ADMIN_API_KEY=<key> PORT=3999 node --conditions=@journey/source --import tsx ../apps/api/src/main.ts (from bench/), ' +
      'then GET /v1/ops/queues, /metrics or /ops/dashboard',
  );
}
