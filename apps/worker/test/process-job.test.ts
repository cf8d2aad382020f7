import { eventually, testServers, uniqueName } from '@journey/embedded/testing';
import { connectRedis, LockNotHeldError, type RedisClient } from '@journey/redis';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { processJob } from '../src/process-job.js';

let redis: RedisClient;
let queue: Queue;
let worker: Worker;
const seen: unknown[] = [];
beforeAll(async () => {
  redis = await connectRedis(testServers().redis, 'blocking');
  // A hash tag keeps every key of the queue in one slot, as a cluster needs for BullMQ's scripts.
  const name = `{${uniqueName('pj')}}`;
  queue = new Queue(name, { connection: redis, defaultJobOptions: { attempts: 5, backoff: { type: 'fixed', delay: 10 } } });
  worker = new Worker(
    name,
    processJob('test', z.strictObject({ n: z.number().int() }), async (data) => {
      seen.push(data);
      if (data.n === 13) throw new LockNotHeldError({ keys: ['lock'] });
      if (data.n === 7) throw new Error('try again');
      return data.n * 2;
    }),
    { connection: redis.duplicate() },
  );
});
afterAll(async () => {
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
});

describe('processJob', () => {
  it('hands the processor a validated payload; a bad one fails the job at once', async () => {
    const good = await queue.add('good', { n: 21 });
    const bad = await queue.add('bad', { n: 'x' });
    await eventually(async () => (await good.isCompleted()) && (await bad.isFailed()), { what: 'both jobs done' });
    expect((await queue.getJob(good.id!))?.returnvalue).toBe(42);
    const failed = await queue.getJob(bad.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/test job \S+ has an invalid payload/);
    expect(seen).toEqual([{ n: 21 }]);
  });

  it('fails a job at once on an unrecoverable store error, and retries any other error', async () => {
    const unrecoverable = await queue.add('lock', { n: 13 });
    const transient = await queue.add('flaky', { n: 7 });
    await eventually(async () => (await unrecoverable.isFailed()) && (await transient.isFailed()), { what: 'both jobs failed' });
    expect((await queue.getJob(unrecoverable.id!))?.attemptsMade).toBe(1);
    expect((await queue.getJob(unrecoverable.id!))?.failedReason).toMatch(/LOCK_NOT_HELD/);
    expect((await queue.getJob(transient.id!))?.attemptsMade).toBe(5);
  });
});
