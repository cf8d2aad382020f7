import { testServers } from '@journey/embedded/testing';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type RedisClient } from '../src/connection.js';
import { createBranchLock } from '../src/branch-lock.js';
import {
  BadScriptArgumentsError,
  BatchExistsError,
  CrossSlotError,
  errorFromScriptCode,
  LockNotHeldError,
  RedisStoreError,
  SCRIPT_CODES,
} from '../src/errors.js';
import { loadScript, runScript } from '../src/scripts.js';
import { closeAll, connect, freshKeys, masters } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

describe('script runner', () => {
  it('falls back to EVAL when Redis lost the script (restart, SCRIPT FLUSH)', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    const target = { journeyId: 'j', userId: 'u', entryId: 'e' };
    await lock.take(target, { expectedToken: '', ownToken: 'a' }, 60_000);
    // FLUSH empties the server-wide cache; other test files recover the same way (BullMQ through ioredis).
    // No assertion in between: a parallel file may load the script again at any moment.
    const { sha } = loadScript('takeBranchLocks');
    // Each node of a cluster has its own script cache.
    await Promise.all(masters(redis).map((node) => node.script('FLUSH', 'SYNC')));
    expect(await lock.take(target, { expectedToken: 'a', ownToken: 'b' }, 60_000)).toEqual({ status: 'acquired' });
    const loaded = await Promise.all(masters(redis).map((node) => node.script('EXISTS', sha)));
    expect(loaded.flat()).toContain(1);
  });

  it('refuses keys from different slots and the wrong key count before Redis sees them', async () => {
    const keys = freshKeys();
    const ref = { shard: 0, branch: { journeyId: 'j', version: 1, stepId: 's' }, dueSecond: 1 };
    await expect(runScript(redis, 'scheduleDue', [keys.dueSet(ref), keys.dueIndex(1), keys.dueWaiting(0)], [1, 'u|e||t'])).rejects.toThrow(
      CrossSlotError,
    );
    await expect(runScript(redis, 'acceptEvents', [keys.eventStream(0), keys.eventDedup(1, 'u', 'e')], [60, 1, 1, '{}'])).rejects.toThrow(
      CrossSlotError,
    );
    await expect(runScript(redis, 'finishBatch', [keys.batches(0)], [])).rejects.toThrow(BadScriptArgumentsError);
    const written = await Promise.all([keys.dueSet(ref), keys.dueIndex(0), keys.dueIndex(1)].map((key) => redis.exists(key)));
    expect(written).toEqual([0, 0, 0]);
  });

  it('maps every script code to its named error, in one place', () => {
    const data = { script: 'x', keys: ['k'] };
    expect(errorFromScriptCode(SCRIPT_CODES.BAD_ARGUMENTS, data)).toBeInstanceOf(BadScriptArgumentsError);
    expect(errorFromScriptCode(SCRIPT_CODES.LOCK_NOT_HELD, data)).toBeInstanceOf(LockNotHeldError);
    expect(errorFromScriptCode(SCRIPT_CODES.BATCH_EXISTS, data)).toBeInstanceOf(BatchExistsError);
    const unknown = errorFromScriptCode(-99, data);
    expect(unknown).toBeInstanceOf(RedisStoreError);
    expect(unknown).toMatchObject({ code: 'UNKNOWN_SCRIPT_CODE', unrecoverable: true, data: { scriptCode: -99 } });
    expect(errorFromScriptCode(SCRIPT_CODES.LOCK_NOT_HELD, data)).toMatchObject({
      name: 'LockNotHeldError',
      message: 'branch lock k is not held by this token',
    });
  });
});

describe('BullMQ names from the keys', () => {
  it('a queue named with its hash tag runs jobs, and a batch job id de-duplicates', async () => {
    const keys = freshKeys();
    const target = testServers().redis;
    const batch = { shard: 3, branch: { journeyId: 'j-1', version: 2, stepId: 'wait' }, dueSecond: 1_700_000_000, nonce: 'abc123' };
    const name = keys.dispatchQueueOf(batch.shard);
    const queue = new Queue<{ n: number }, number>(name, { connection: createRedis(target, 'blocking') });
    // From the stream's start: a new queue's events are few, and none is missed before the first read (`$`) is made.
    const events = new QueueEvents(name, { connection: createRedis(target, 'blocking'), lastEventId: '0-0' });
    const worker = new Worker<{ n: number }, number>(name, async (job) => job.data.n * 2, {
      connection: createRedis(target, 'blocking'),
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add('batch', { n: 21 }, { jobId: keys.batchJobId(batch) });
      expect(await job.waitUntilFinished(events, 10_000)).toBe(42);
      expect((await queue.add('batch', { n: 1 }, { jobId: keys.batchJobId(batch) })).id).toBe(keys.batchJobId(batch));
      expect((await queue.add('drain', { n: 1 }, { jobId: keys.drainJobId(0) })).id).toBe('ev-0');
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
