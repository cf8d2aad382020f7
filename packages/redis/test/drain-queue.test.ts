import { rejectionOf, testServers } from '@journey/embedded/testing';
import { Worker, type Queue } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connectRedis } from '../src/connection.js';
import { createDrainQueue, DrainJobSchema } from '../src/drain-queue.js';
import { isRedisUnavailableError } from '../src/unavailable.js';
import { freshKeys } from './helpers.js';

const closers: Array<() => Promise<unknown>> = [];

async function obliterate(queues: readonly Queue[]): Promise<void> {
  for (const queue of queues) await queue.obliterate({ force: true });
}

/** The partitions of the drains waiting in each queue, sorted. */
async function waitingPartitions(queues: readonly Queue[]): Promise<number[][]> {
  const waiting = await Promise.all(queues.map((queue) => queue.getWaiting()));
  return waiting.map((jobs) => jobs.map((job) => DrainJobSchema.parse(job.data).partition).sort());
}
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('drain queue', () => {
  it('keeps one pending drain per partition however often it is asked', async () => {
    const keys = freshKeys({ eventPartitions: 4 });
    const drains = createDrainQueue(await connectRedis(testServers().redis, 'blocking'), keys);
    closers.push(
      () => obliterate(drains.queues),
      () => drains.close(),
    );
    await drains.requestDrain([1, 1, 2]);
    await drains.requestDrain([1, 2, 3]);
    expect((await waitingPartitions(drains.queues)).flat().sort()).toEqual([1, 2, 3]);
  });

  it("puts a partition's drains in its queue group's queue, always the same one", async () => {
    const keys = freshKeys({ eventPartitions: 6, queueGroups: 4 });
    const drains = createDrainQueue(await connectRedis(testServers().redis, 'blocking'), keys);
    closers.push(
      () => obliterate(drains.queues),
      () => drains.close(),
    );
    await drains.requestDrain([0, 1, 2, 3, 4, 5]);
    // Partition p goes to group p mod 4.
    expect(await waitingPartitions(drains.queues)).toEqual([[0, 4], [1, 5], [2], [3]]);
  });

  it('makes one job add per partition for requests made together, and each request waits for its adds', async () => {
    const keys = freshKeys({ eventPartitions: 4 });
    const drains = createDrainQueue(await connectRedis(testServers().redis, 'blocking'), keys);
    closers.push(
      () => obliterate(drains.queues),
      () => drains.close(),
    );
    // Counts the real adds (they still run).
    const adds = drains.queues.map((queue) => vi.spyOn(queue, 'add'));
    await Promise.all(Array.from({ length: 10 }, (_, request) => drains.requestDrain([request % 4, (request + 1) % 4])));
    expect(adds.reduce((sum, add) => sum + add.mock.calls.length, 0)).toBe(4);
    expect((await waitingPartitions(drains.queues)).flat().sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects a request whose add failed', async () => {
    const keys = freshKeys({ eventPartitions: 2 });
    const connection = await connectRedis(testServers().redis, 'blocking');
    const drains = createDrainQueue(connection, keys);
    closers.push(() => drains.close());
    // The queue reports the closed connection too; it is the point here, not noise for the test output.
    for (const queue of drains.queues) queue.on('error', () => undefined);
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
        keys.drainQueueOf(0),
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
      () => obliterate(drains.queues),
      () => drains.close(),
    );

    await drains.requestDrain([0]);
    await firstStarted;
    // Asked twice while the first drain runs: one more drain, after it, not two and not in parallel.
    await drains.requestDrain([0]);
    await drains.requestDrain([0]);
    release();
    await expect.poll(() => runs, { timeout: 10_000 }).toBe(2);
    expect(await drains.queues[0]!.getJobCounts('waiting', 'active')).toEqual({ waiting: 0, active: 0 });
    expect(maxRunning).toBe(1);
  });
});
