import { createLogger } from '@journey/config';
import { eventually, testServers, uniqueName } from '@journey/embedded/testing';
import {
  connectRedis,
  createLeases,
  createDispatchQueue,
  createDueSchedule,
  createKeys,
  type DispatchJob,
  type DueMember,
  type RedisClient,
} from '@journey/redis';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createScheduler } from '../src/dispatch/scheduler.js';

const STALE_MS = 30_000;
const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const branch = { journeyId: 'j1', version: 1, stepId: 'welcome' };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const members = (count: number, tag: string): DueMember[] =>
  Array.from({ length: count }, (_, index) => ({
    userId: `${tag}${index}`,
    entryId: 'e1',
    expectedToken: '',
    ownToken: 'aaaaaaaaaaaaaaaa',
  }));

/** A scheduler on the real Redis and BullMQ with a clock the test moves; no batch processor runs, so jobs stay put. */
async function recoveryEnv(options: { recoverEveryMs?: number } = {}) {
  let clock = T0;
  const redis: RedisClient = await connectRedis(testServers().redis, 'blocking');
  const keys = createKeys(uniqueName('r').replace(/[^A-Za-z0-9_-]/g, '_'), { dueShards: 1 });
  const dueSchedule = createDueSchedule(redis, keys);
  const dispatchQueue = createDispatchQueue(redis, keys);
  const scheduler = createScheduler({
    keys,
    dueSchedule,
    dispatchQueue,
    leases: createLeases(redis, keys),
    logger: createLogger({ name: 'recovery-test', level: 'silent' }),
    now: () => clock,
    tickMs: 200,
    staleBatchMs: STALE_MS,
    ...options,
  });
  cleanups.push(
    () => redis.quit(),
    () => dispatchQueue.close(),
    () => dispatchQueue.queueOf(0).obliterate({ force: true }),
  );
  const second = () => Math.floor(clock / 1000);
  return {
    keys,
    dueSchedule,
    dispatchQueue,
    scheduler,
    advance(ms: number) {
      clock += ms;
    },
    /** Schedules `count` users due now and returns their due set. */
    async due(count: number, tag: string) {
      await dueSchedule.schedule(branch, second(), members(count, tag));
      return { shard: 0, branch, dueSecond: second() };
    },
    async jobIds(): Promise<string[]> {
      const jobs = await dispatchQueue.queueOf(0).getJobs(['waiting', 'active', 'delayed', 'failed', 'completed']);
      return jobs.map((job) => job.id!).sort();
    },
  };
}

describe('scheduler recovery', () => {
  it('enqueues a batch that lost its job again at the next recovery pass, and leaves a batch whose job waits', async () => {
    const env = await recoveryEnv({ recoverEveryMs: 60_000 });
    await env.due(150, 'queued');
    expect(await env.scheduler.tick()).toEqual({ carvedBatches: 1, carvedUsers: 150, recoveredBatches: 0 });
    const [queuedJob] = await env.jobIds();

    // A scheduler that died between carving and enqueueing: the batch is registered and has no job.
    const lost = (await env.dueSchedule.carve(await env.due(40, 'lost'), { nowMs: T0 }))!;
    const queuedBatch = env.dispatchQueue.batchOf({ batchKey: (await env.dispatchQueue.queueOf(0).getJob(queuedJob!))!.data.batchKey })!;
    expect(await env.dispatchQueue.jobStates([queuedBatch, lost.batch])).toEqual(['pending', 'missing']);

    // Stale, but the recovery ran at T0 and is next due at T0 + 60 s: the ticks in between only carve.
    env.advance(STALE_MS + 1);
    expect((await env.scheduler.tick()).recoveredBatches).toBe(0);
    expect(await env.jobIds()).toEqual([queuedJob]);

    env.advance(60_000 - STALE_MS);
    expect((await env.scheduler.tick()).recoveredBatches).toBe(1);
    expect(await env.jobIds()).toEqual([queuedJob, env.keys.batchJobId(lost.batch)].sort());
    expect(await env.dispatchQueue.jobStates([queuedBatch, lost.batch])).toEqual(['pending', 'pending']);
    // Both batches are still registered: only a job's finish unregisters them.
    expect((await env.dueSchedule.backlog(0)).unfinishedBatches).toBe(2);

    // A later pass finds both jobs and adds nothing.
    env.advance(60_000);
    expect((await env.scheduler.tick()).recoveredBatches).toBe(0);
    expect(await env.jobIds()).toHaveLength(2);
  });

  it('retries a batch whose job failed for good and unregisters one whose job completed without finishing it', async () => {
    const env = await recoveryEnv();
    await env.due(400, 'u');
    expect(await env.scheduler.tick()).toMatchObject({ carvedBatches: 2, recoveredBatches: 0 });

    // A processor that fails the first job it gets and completes the second, finishing neither batch.
    const outcomes: Record<string, 'failed' | 'completed'> = {};
    const connection = await connectRedis(testServers().redis, 'blocking');
    cleanups.push(() => connection.quit());
    const worker = new Worker<DispatchJob>(
      env.keys.dispatchQueueOf(0),
      async (job) => {
        if (Object.keys(outcomes).length === 0) {
          outcomes[job.data.batchKey] = 'failed';
          throw new UnrecoverableError('broken batch');
        }
        outcomes[job.data.batchKey] = 'completed';
      },
      { connection, concurrency: 1 },
    );
    cleanups.push(() => worker.close());
    const counts = await eventually(
      async () => {
        const now = await env.dispatchQueue.queueOf(0).getJobCounts('failed', 'completed');
        return now.failed === 1 && now.completed === 1 ? now : undefined;
      },
      { what: 'one job failed and one completed' },
    );
    expect(counts).toEqual({ failed: 1, completed: 1 });
    await worker.close();

    const [failedKey, completedKey] = ['failed', 'completed'].map((outcome) =>
      Object.keys(outcomes).find((key) => outcomes[key] === outcome)!,
    );
    const failedBatch = env.dispatchQueue.batchOf({ batchKey: failedKey! })!;
    const completedBatch = env.dispatchQueue.batchOf({ batchKey: completedKey! })!;
    expect(await env.dispatchQueue.jobStates([failedBatch, completedBatch])).toEqual(['failed', 'completed']);

    env.advance(STALE_MS + 1);
    expect((await env.scheduler.tick()).recoveredBatches).toBe(1);
    expect(await (await env.dispatchQueue.queueOf(0).getJob(env.keys.batchJobId(failedBatch)))!.getState()).toBe('waiting');
    const { stale } = await env.dueSchedule.staleBatches(0, { olderThanMs: STALE_MS, nowMs: T0 + STALE_MS + 1 });
    expect(stale.map((each) => each.key)).toEqual([failedKey]);
  });
});
