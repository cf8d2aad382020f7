import { eventually } from '@journey/embedded/testing';
import { isMongoUnavailableError } from '@journey/mongo';
import {
  createDeadLetters,
  createDrainQueue,
  createLeases,
  isRedisUnavailableError,
  type DeadLetters,
  type DrainQueue,
} from '@journey/redis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordApplier, StreamRecord } from '../src/ingest/apply-record.js';
import { startDrainWorker, type AppliedRecord, type RunningDrainWorker } from '../src/ingest/drain-processor.js';
import { startSweeper } from '../src/ingest/sweeper.js';
import { startProcessors } from '../src/processors.js';
import { event, ingestEnv, onboardingJourney, silentLogger, T0, type IngestEnv } from './ingest-helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(partitions = 4): Promise<{ env: IngestEnv; drainQueue: DrainQueue }> {
  const env = await ingestEnv({ partitions });
  const drainQueue = createDrainQueue(env.blocking, env.keys);
  cleanups.push(
    () => env.close(),
    () => drainQueue.close(),
    async () => {
      for (const queue of drainQueue.queues) await queue.obliterate({ force: true });
    },
  );
  return { env, drainQueue };
}

function drainWorkers(
  env: IngestEnv,
  count: number,
  options: { applier?: RecordApplier; onApplied: (applied: AppliedRecord) => void; drainQueue: DrainQueue; deadLetters?: DeadLetters },
): RunningDrainWorker[] {
  return Array.from({ length: count }, () => {
    const connection = env.blocking.duplicate();
    const running = startDrainWorker({
      keys: env.keys,
      connection,
      concurrency: 2,
      lockMs: env.config.JOB_LOCK_MS,
      stream: env.stream,
      applier: options.applier ?? env.applier,
      logger: silentLogger,
      chunkSize: 25,
      onApplied: options.onApplied,
      drainQueue: options.drainQueue,
      deadLetters: options.deadLetters ?? env.deadLetters,
      isUnavailable: (error) => isMongoUnavailableError(error) || isRedisUnavailableError(error),
      beforeChunk: () => env.journeys.refresh(),
      retryBaseMs: 10,
    });
    cleanups.push(async () => {
      await running.close();
      connection.disconnect();
    });
    return running;
  });
}

const byUser = (records: readonly StreamRecord[], userId: string) =>
  records.filter((each) => each.record.userId === userId).map((each) => each.streamId);

describe('draining the event partitions', () => {
  it("applies one user's 200 records in stream order across 3 drain workers while other users progress in parallel", async () => {
    const { env, drainQueue } = await setup(4);
    await env.publish(onboardingJourney());
    await env.users.mergeAttributes('hot', { country: 'US' }, new Date(T0));
    const others = Array.from({ length: 24 }, (_, index) => `user-${index}`);
    const hotPartition = env.keys.eventPartitionOf('hot');
    expect(others.some((userId) => env.keys.eventPartitionOf(userId) === hotPartition)).toBe(true);
    expect(others.some((userId) => env.keys.eventPartitionOf(userId) !== hotPartition)).toBe(true);

    const applied: AppliedRecord[] = [];
    drainWorkers(env, 3, { onApplied: (record) => applied.push(record), drainQueue });

    // Appended in rounds while the drains run, as the API would: append, then ask for the partitions' drains.
    const accepted: StreamRecord[] = [];
    for (let round = 0; round < 10; round++) {
      const records = [
        ...Array.from({ length: 20 }, (_, index) => event('hot', index % 2 ? 'signed_up' : 'clicked', { round, index })),
        ...others.map((userId) => event(userId, 'clicked', { round })),
      ];
      const results = await env.stream.accept(records.map((record) => ({ record, deduplicate: true })));
      const partitions = new Set<number>();
      results.forEach((result, index) => {
        if (result.status !== 'accepted') throw new Error('not accepted');
        accepted.push({ streamId: result.streamId, record: records[index]! });
        partitions.add(result.partition);
      });
      await drainQueue.requestDrain(partitions);
    }

    await eventually(() => applied.length === accepted.length, { what: `all ${accepted.length} records applied`, timeoutMs: 30_000 });
    // Exactly once each, and per user in the order of its partition's stream.
    for (const userId of ['hot', ...others]) expect(byUser(applied, userId)).toEqual(byUser(accepted, userId));
    expect(byUser(applied, 'hot')).toHaveLength(200);
    expect((await env.users.get('hot'))?.lastRecord).toBe(byUser(accepted, 'hot').at(-1));
    // Other partitions did not wait for the hot user's: their records were applied before its last one.
    const hotDone = applied.findIndex((each) => each.streamId === byUser(accepted, 'hot').at(-1) && each.record.userId === 'hot');
    expect(applied.findIndex((each) => each.partition !== hotPartition)).toBeLessThan(hotDone);
    await eventually(async () => (await env.stream.lengths()).every((length) => length === 0), { what: 'every partition acknowledged' });
  }, 40_000);

  it('acknowledges an unreadable entry without blocking the partition', async () => {
    const { env, drainQueue } = await setup(1);
    const applied: AppliedRecord[] = [];
    const [worker] = drainWorkers(env, 1, { onApplied: (record) => applied.push(record), drainQueue });
    const before = await env.append(event('u1', 'clicked'));
    await env.redis.xadd(env.keys.eventStream(0), '*', 'e', '{not json');
    await env.redis.xadd(env.keys.eventStream(0), '*', 'other', 'field');
    const after = await env.append(event('u1', 'clicked'));
    await drainQueue.requestDrain([0]);

    await eventually(() => applied.length === 2, { what: 'both readable records applied' });
    expect(applied.map((each) => each.streamId)).toEqual([before.streamId, after.streamId]);
    expect(worker!.stats).toMatchObject({ applied: 2, unreadable: 2 });
    await eventually(async () => (await env.stream.lengths())[0] === 0, { what: 'the stream acknowledged' });
  });

  it('moves a record that keeps failing to the dead letters, and the partition goes on without it', async () => {
    const { env, drainQueue } = await setup(1);
    const journeyId = await env.publish(onboardingJourney());
    for (const userId of ['poisoned', 'other']) await env.users.mergeAttributes(userId, { country: 'US' }, new Date(T0));
    const poison = await env.append(event('poisoned', 'clicked', { n: 1 }));
    const later = await env.append(event('poisoned', 'signed_up', { source: 'ads' }));
    const others = await Promise.all(Array.from({ length: 120 }, (_, index) => env.append(event('other', 'clicked', { index }))));
    let tries = 0;
    const poisoned: RecordApplier = {
      apply: async (entry) => {
        if (entry.streamId !== poison.streamId) return env.applier.apply(entry);
        tries++;
        throw new TypeError('cannot read the stored user');
      },
    };
    const applied: AppliedRecord[] = [];
    drainWorkers(env, 1, { applier: poisoned, onApplied: (record) => applied.push(record), drainQueue });
    await drainQueue.requestDrain([0]);

    await eventually(() => applied.length === 121, { what: 'every other record applied' });
    expect(tries).toBe(env.deadLetters.limit);
    expect(byUser(applied, 'other')).toEqual(others.map((each) => each.streamId));
    // The poisoned user's later record is applied too: the user entered the journey.
    expect(byUser(applied, 'poisoned')).toEqual([later.streamId]);
    expect(await env.states.get(journeyId, 'poisoned')).toMatchObject({ status: 'active' });
    const [letter] = await env.deadLetters.recent();
    expect(letter).toMatchObject({
      partition: 0,
      streamId: poison.streamId,
      failures: env.deadLetters.limit,
      error: 'TypeError: cannot read the stored user',
    });
    expect(JSON.parse(letter!.record)).toMatchObject({ userId: 'poisoned', name: 'clicked' });
    expect(await env.deadLetters.counts()).toEqual([1]);
    await eventually(async () => (await env.stream.lengths())[0] === 0, { what: 'the stream acknowledged' });
  });

  it('counts nothing against a record while a store is unreachable, and applies it once the store is back', async () => {
    const { env, drainQueue } = await setup(1);
    const deadLetters = createDeadLetters(env.redis, env.keys, { limit: 2 });
    const record = await env.append(event('waiting', 'clicked'));
    let failures = 0;
    const outage: RecordApplier = {
      apply: async (entry) => {
        // More failures than the dead letters allow: a store outage must never make a dead letter.
        if (failures < deadLetters.limit + 1) {
          failures++;
          throw new Error('Connection is closed.');
        }
        return env.applier.apply(entry);
      },
    };
    const applied: AppliedRecord[] = [];
    drainWorkers(env, 1, { applier: outage, onApplied: (each) => applied.push(each), drainQueue, deadLetters });
    await drainQueue.requestDrain([0]);

    await eventually(() => applied.length === 1, { what: 'the record applied by a retried drain after the outage' });
    expect(failures).toBe(deadLetters.limit + 1);
    expect(applied[0]?.streamId).toBe(record.streamId);
    expect(await deadLetters.counts()).toEqual([0]);
  });

  it('fails the drain when a record cannot be applied; the retry applies every record once, in order', async () => {
    const { env, drainQueue } = await setup(1);
    const records: StreamRecord[] = [];
    for (let index = 0; index < 6; index++) records.push(await env.append(event(index % 2 ? 'a' : 'b', 'clicked', { index })));
    let failures = 0;
    const flaky: RecordApplier = {
      apply: async (entry) => {
        if (entry.streamId === records[3]!.streamId && failures === 0) {
          failures++;
          throw new Error('MongoDB went away');
        }
        return env.applier.apply(entry);
      },
    };
    const applied: AppliedRecord[] = [];
    drainWorkers(env, 1, { applier: flaky, onApplied: (record) => applied.push(record), drainQueue });
    await drainQueue.requestDrain([0]);

    await eventually(() => applied.length === records.length, { what: 'every record applied after the retry' });
    expect(failures).toBe(1);
    for (const userId of ['a', 'b']) expect(byUser(applied, userId)).toEqual(byUser(records, userId));
    await eventually(async () => (await env.stream.lengths())[0] === 0, { what: 'the stream acknowledged' });
  });

  it('records accepted while no worker runs are applied once the worker processes start (the sweeper)', async () => {
    const { env } = await setup(16);
    const journeyId = await env.publish(onboardingJourney());
    const userIds = Array.from({ length: 30 }, (_, index) => `early-${index}`);
    for (const userId of userIds) await env.users.mergeAttributes(userId, { country: 'US' }, new Date(T0));
    // Accepted, but nobody asked for a drain: every worker was down.
    const early = await Promise.all(userIds.map((userId) => env.append(event(userId, 'signed_up', { source: 'ads' }))));

    const processors = await startProcessors({ config: env.config, logger: silentLogger, mongo: env.mongo, redis: env.blocking });
    cleanups.push(() => processors.close());

    for (const { streamId, record } of early) {
      await eventually(async () => (await env.users.get(record.userId))?.lastRecord === streamId, {
        what: `record of ${record.userId} applied`,
      });
      expect(await env.states.get(journeyId, record.userId)).toMatchObject({ status: 'active' });
    }
    // And what arrives later without a drain request too.
    const late = await env.append(event('early-0', 'clicked'));
    await eventually(async () => (await env.users.get('early-0'))?.lastRecord === late.streamId, { what: 'a later record applied' });
    await eventually(async () => (await env.stream.lengths()).every((length) => length === 0), { what: 'every partition acknowledged' });
  });

  it('sweeps from one worker of the fleet at a time, and from another once that one stops', async () => {
    const { env, drainQueue } = await setup(4);
    const { record } = await env.append(event('ann', 'opened'));
    const sweeper = () =>
      startSweeper({
        stream: env.stream,
        drainQueue,
        leases: createLeases(env.redis, env.keys),
        lease: env.keys.sweeperLease(),
        logger: silentLogger,
        // Sweeps are called by hand here; the lease lasts 3 intervals.
        intervalMs: 60_000,
      });
    const partition = env.keys.eventPartitionOf(record.userId);
    // The second starts once the first holds the lease: which of two sweepers started together wins is not ordered.
    const first = sweeper();
    cleanups.push(() => first.stop());
    expect(await first.sweep()).toEqual([partition]);
    const second = sweeper();
    cleanups.push(() => second.stop());
    expect(await second.sweep()).toEqual([]);
    expect(await first.sweep()).toEqual([partition]);
    await first.stop();
    expect(await second.sweep()).toEqual([partition]);
  });
});
