import { rejectionOf, testServers } from '@journey/embedded/testing';
import { Worker } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connectRedis } from '../src/connection.js';
import { createDrainQueue, DrainJobSchema } from '../src/drain-queue.js';
import { isRedisUnavailableError } from '../src/unavailable.js';
import { freshKeys } from './helpers.js';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('drain queue', () => {
  it('keeps one pending drain per partition however often it is asked', async () => {
    const keys = freshKeys({ eventPartitions: 4 });
    const drains = createDrainQueue(await connectRedis(testServers().redis, 'blocking'), keys);
    closers.push(
      () => drains.queue.obliterate({ force: true }),
      () => drains.close(),
    );
    await drains.requestDrain([1, 1, 2]);
    await drains.requestDrain([1, 2, 3]);
    const waiting = await drains.queue.getWaiting();
    expect(waiting.map((job) => DrainJobSchema.parse(job.data).partition).sort()).toEqual([1, 2, 3]);
  });

  it('makes one job add per partition for requests made together, and each request waits for its adds', async () => {
    const keys = freshKeys({ eventPartitions: 4 });
    const drains = createDrainQueue(await connectRedis(testServers().redis, 'blocking'), keys);
    closers.push(
      () => drains.queue.obliterate({ force: true }),
      () => drains.close(),
    );
    // Counts the real adds (they still run).
    const add = vi.spyOn(drains.queue, 'add');
    await Promise.all(Array.from({ length: 10 }, (_, request) => drains.requestDrain([request % 4, (request + 1) % 4])));
    expect(add).toHaveBeenCalledTimes(4);
    const waiting = await drains.queue.getWaiting();
    expect(waiting.map((job) => DrainJobSchema.parse(job.data).partition).sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects a request whose add failed', async () => {
    const keys = freshKeys({ eventPartitions: 2 });
    const connection = await connectRedis(testServers().redis, 'blocking');
    const drains = createDrainQueue(connection, keys);
    closers.push(() => drains.close());
    // The queue reports the closed connection too; it is the point here, not noise for the test output.
    drains.queue.on('error', () => undefined);
    connection.disconnect();
    // "Connection is closed" from a single server's client, "None of startup nodes is available" from a cluster's.
    expect(isRedisUnavailableError(await rejectionOf(() => drains.requestDrain([0, 1])))).toBe(true);
  });

  it('never runs two drains of a partition at once, and keeps a request made while one runs', async () => {
    const keys = freshKeys({ eventPartitions: 1 });
    const connection = await connectRedis(testServers().redis, 'blocking');
    const drains = createDrainQueue(connection, keys);
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const firstStarted = new Promise<void>((started) => {
      const worker = new Worker(
        keys.queues.drain,
        async () => {
          running++;
          runs++;
          maxRunning = Math.max(maxRunning, running);
          if (runs === 1) {
            started();
            await new Promise<void>((resolve) => (release = resolve));
          }
          running--;
        },
        { connection: connection.duplicate(), concurrency: 4 },
      );
      closers.push(() => worker.close());
    });
    closers.push(
      () => drains.queue.obliterate({ force: true }),
      () => drains.close(),
    );

    await drains.requestDrain([0]);
    await firstStarted;
    // Asked twice while the first drain runs: one more drain, after it, not two and not in parallel.
    await drains.requestDrain([0]);
    await drains.requestDrain([0]);
    release();
    await expect.poll(() => runs, { timeout: 10_000 }).toBe(2);
    expect(await drains.queue.getJobCounts('waiting', 'active')).toEqual({ waiting: 0, active: 0 });
    expect(maxRunning).toBe(1);
  });
});
