import { createLogger } from '@journey/config';
import { eventually, testServers, uniqueName } from '@journey/embedded/testing';
import {
  connectRedis,
  createLeases,
  createDispatchQueue,
  createDueSchedule,
  createKeys,
  type DueSchedule,
  type RedisClient,
} from '@journey/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createScheduler, type Scheduler } from '../src/dispatch/scheduler.js';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const branch = { journeyId: 'j1', version: 1, stepId: 'welcome' };
const logger = createLogger({ name: 'lease-test', level: 'silent' });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Schedulers on one key prefix of the real Redis, with no batch processor: the jobs they enqueue stay put. */
async function schedulers(count: number, options: { shards: number; leaseMs?: number }) {
  const redis: RedisClient = await connectRedis(testServers().redis, 'blocking');
  const keys = createKeys(uniqueName('l').replace(/[^A-Za-z0-9_-]/g, '_'), { dueShards: options.shards });
  const dueSchedule = createDueSchedule(redis, keys);
  const dispatchQueue = createDispatchQueue(redis, keys);
  // Counts the due-index reads: what polling costs Redis.
  let polls = 0;
  const counted: DueSchedule = {
    ...dueSchedule,
    dueSets: (shard, query) => {
      polls++;
      return dueSchedule.dueSets(shard, query);
    },
  };
  const made: Scheduler[] = Array.from({ length: count }, () =>
    createScheduler({
      keys,
      dueSchedule: counted,
      dispatchQueue,
      leases: createLeases(redis, keys),
      logger,
      now: () => T0,
      tickMs: 200,
      staleBatchMs: 30_000,
      leaseMs: options.leaseMs ?? 60_000,
    }),
  );
  cleanups.push(
    () => redis.quit(),
    () => dispatchQueue.close(),
    async () => {
      for (const queue of dispatchQueue.queues) await queue.obliterate({ force: true });
    },
    () => Promise.all(made.map((scheduler) => scheduler.stop())),
  );
  return { keys, dueSchedule, schedulers: made, polls: () => polls };
}

const held = (each: readonly Scheduler[]) => each.flatMap((scheduler) => scheduler.shards()).sort((a, b) => a - b);

describe('schedulers share the due shards out', () => {
  it('polls and carves each shard from one scheduler only: a trickle fills batches as with one scheduler', async () => {
    const env = await schedulers(3, { shards: 1 });
    // The first to tick finds the lease free and keeps it (renewed every quarter of the lease).
    for (const scheduler of env.schedulers) await scheduler.tick();
    expect(env.schedulers.map((scheduler) => scheduler.shards())).toEqual([[0], [], []]);
    const pollsBefore = env.polls();
    let batches = 0;
    let carved = 0;
    // Ten users become due, then one of the three schedulers ticks, in turn; thirty times.
    for (let round = 1; round <= 30; round++) {
      const members = Array.from({ length: 10 }, (_, index) => ({
        userId: `u${round}-${index}`,
        entryId: 'e1',
        expectedToken: '',
        ownToken: 'aaaaaaaaaaaaaaaa',
      }));
      await env.dueSchedule.schedule(branch, Math.floor(T0 / 1000), members);
      const result = await env.schedulers[round % 3]!.tick();
      batches += result.carvedBatches;
      carved += result.carvedUsers;
    }
    // The holder carved at its own ticks (every third round: 30 users a batch); without the lease each tick carved
    // what had come since the last one (10 users a batch) and every tick polled the shard.
    expect(batches).toBe(10);
    expect(carved).toBe(300);
    expect(env.polls() - pollsBefore).toBe(10);
  });

  it('gives each shard to exactly one of the schedulers alive, and a stopped one’s shards to the others at once', async () => {
    const env = await schedulers(3, { shards: 16, leaseMs: 400 });
    for (const scheduler of env.schedulers) await scheduler.tick();
    // Each saw the others alive only from its own heartbeat on: a second round agrees on the share.
    await eventually(
      async () => {
        for (const scheduler of env.schedulers) await scheduler.tick();
        return held(env.schedulers).join() === Array.from({ length: 16 }, (_, shard) => shard).join();
      },
      { what: 'every shard held once' },
    );
    const [leaving, ...staying] = env.schedulers;
    await leaving!.stop();
    await eventually(
      async () => {
        for (const scheduler of staying) await scheduler.tick();
        return held(staying).join() === Array.from({ length: 16 }, (_, shard) => shard).join();
      },
      { what: 'the stopped scheduler’s shards taken over' },
    );
  });

  it('takes over the shards of a scheduler that died once its lease lapsed', async () => {
    const env = await schedulers(2, { shards: 8, leaseMs: 400 });
    const [dead, alive] = env.schedulers;
    await dead!.tick();
    expect(held([dead!])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // It never ticks again and never stops (a SIGKILL): the other gets everything within a lease and a renewal.
    const started = Date.now();
    await eventually(
      async () => {
        await alive!.tick();
        return alive!.shards().length === 8;
      },
      { what: 'the dead scheduler’s shards taken over', timeoutMs: 5_000 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
