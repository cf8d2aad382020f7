import { testServers, uniqueName } from '@journey/embedded/testing';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, pingRedis, redisServerVersion, type RedisClient } from '../src/index.js';

describe('BullMQ on the real Redis', () => {
  let redis: RedisClient;

  beforeAll(async () => {
    redis = createRedis(testServers().redis, 'blocking');
    console.log(`Redis server under test: ${await redisServerVersion(redis)}`);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('answers ping', async () => {
    expect(await pingRedis(redis)).toBeGreaterThanOrEqual(0);
  });

  it('runs a job from queue to worker and back', async () => {
    // A hash tag keeps every key of the queue in one slot, as a cluster needs for BullMQ's scripts.
    const name = `{${uniqueName('roundtrip')}}`;
    const queue = new Queue<{ a: number; b: number }, number>(name, { connection: redis });
    // From the stream's start: a new queue's events are few, and none is missed before the first read (`$`) is made.
    const events = new QueueEvents(name, { connection: createRedis(testServers().redis, 'blocking'), lastEventId: '0-0' });
    const worker = new Worker<{ a: number; b: number }, number>(name, async (job) => job.data.a + job.data.b, {
      connection: createRedis(testServers().redis, 'blocking'),
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add('sum', { a: 2, b: 40 }, { jobId: 'sum-1' });
      expect(await job.waitUntilFinished(events, 10_000)).toBe(42);
      // The same job id added again is de-duplicated by BullMQ: the engine relies on this for idempotent scheduling.
      const again = await queue.add('sum', { a: 1, b: 1 }, { jobId: 'sum-1' });
      expect(again.id).toBe('sum-1');
      expect(await queue.getJobCounts('completed', 'waiting', 'failed')).toEqual({ completed: 1, waiting: 0, failed: 0 });
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
