import { createLogger, readEnv, redisEnv, redisTarget, type Config, type RedisTarget } from '@journey/config';
import type { MongoStore } from '@journey/mongo';
import { connectRedis, duplicateRedis, type Keys, type RedisClient } from '@journey/redis';
import { QueueEvents } from 'bullmq';
import { startDispatch, type RunningDispatch } from '@journey/worker';

/** The engine's configuration for a benchmark design: production defaults, its own prefix and database. */
export function benchConfig(services: { redisTarget: RedisTarget; mongoUri: string }, prefix: string, dbName: string): Config {
  return {
    ...readEnv({
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: prefix,
      ADMIN_API_KEY: 'bench-admin-key-not-used-0000',
      ...redisEnv(services.redisTarget),
    }),
    MONGODB_URI: services.mongoUri,
    MONGODB_DB: dbName,
  };
}

export interface EngineDispatch {
  /** Batch jobs BullMQ added to the dispatch queue since start (QueueEvents `added`). */
  jobsAdded(): number;
  /** Attempts of batch jobs that failed since start (QueueEvents `failed`; BullMQ retries them). */
  jobsFailed(): number;
  close(): Promise<void>;
}

/**
 * The real dispatch in this process, as apps/worker's startProcessors starts it (startDispatch: the scheduler that
 * carves due sets into batches, and the BullMQ batch processor with WORKER_CONCURRENCY jobs at a time), with the
 * configured tick, lock and webhook settings, on a blocking connection of its own.
 */
export async function startEngineDispatch(options: { config: Config; mongo: MongoStore; keys: Keys }): Promise<EngineDispatch> {
  const { config, mongo, keys } = options;
  const eventsRedis = await connectRedis(redisTarget(config), 'blocking');
  // Every dispatch queue's events (one queue per queue group), each on a connection of its own (a blocking read).
  const events = keys.queues.dispatch.map((name) => new QueueEvents(name, { connection: duplicateRedis(eventsRedis, {}) }));
  let added = 0;
  let failed = 0;
  for (const each of events) {
    each.on('added', () => added++);
    each.on('failed', () => failed++);
  }
  await Promise.all(events.map((each) => each.waitUntilReady()));
  const redis: RedisClient = await connectRedis(redisTarget(config), 'blocking');
  if (keys.prefix !== config.REDIS_PREFIX)
    throw new Error(`the dispatch keys (${keys.prefix}) are not the configuration's (${config.REDIS_PREFIX})`);
  const running: RunningDispatch = await startDispatch({
    config,
    logger: createLogger({ name: 'bench-dispatch', level: (process.env.BENCH_LOG_LEVEL as 'silent') ?? 'silent' }),
    mongo,
    redis,
  });
  return {
    jobsAdded: () => added,
    jobsFailed: () => failed,
    async close() {
      await running.close();
      await Promise.all(events.map((each) => each.close()));
      eventsRedis.disconnect();
      redis.disconnect();
    },
  };
}

/** States of the journey whose entry completed (the dispatcher's commit landed). */
export function completedStates(mongo: MongoStore, journeyId: string): Promise<number> {
  return mongo.db.collection('journey_states').countDocuments({ journeyId, status: 'completed' });
}
