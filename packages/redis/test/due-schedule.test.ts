import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDueSchedule, type DueSchedule } from '../src/due-schedule.js';
import { BatchExistsError, BadScriptArgumentsError, InvalidInputError } from '../src/errors.js';
import type { DueBranch, DueSetRef, Keys } from '../src/keys.js';
import { encodeDueMember, MEMBER_BUDGET_BYTES, type DueMember } from '../src/members.js';
import { runScript } from '../src/scripts.js';
import { closeAll, connect, freshKeys, keysOf } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

const branch: DueBranch = { journeyId: 'j1', version: 2, stepId: 'wait' };
const SECOND = 1_700_000_000;

const member = (userId: string, entryId = 'e1'): DueMember => ({ userId, entryId, expectedToken: 't1', ownToken: 't2' });

/** Users that all hash to `shard`, so one due set holds all of them. */
function usersOfShard(keys: Keys, shard: number, count: number): string[] {
  const users: string[] = [];
  for (let index = 0; users.length < count; index++) if (keys.dueShardOf(`user-${index}`) === shard) users.push(`user-${index}`);
  return users;
}

async function scheduleInOneSet(keys: Keys, schedule: DueSchedule, count: number): Promise<DueSetRef> {
  const users = usersOfShard(keys, 0, count);
  expect(
    await schedule.schedule(
      branch,
      SECOND,
      users.map((user) => member(user)),
    ),
  ).toBe(count);
  return { shard: 0, branch, dueSecond: SECOND };
}

describe('due schedule: scheduling', () => {
  it('adds the member to the due set of its shard and registers the full set key in the index', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    const shard = keys.dueShardOf('alice');
    expect(await schedule.schedule(branch, SECOND, [member('alice')])).toBe(1);
    const setKey = keys.dueSet({ shard, branch, dueSecond: SECOND });
    expect(await redis.smembers(setKey)).toEqual(['alice|e1|t1|t2']);
    expect(await redis.zrange(keys.dueIndex(shard), 0, -1, 'WITHSCORES')).toEqual([setKey, String(SECOND)]);
    // Scheduled again: nothing new, the index is unchanged.
    expect(await schedule.schedule(branch, SECOND, [member('alice')])).toBe(0);
    expect(await redis.zcard(keys.dueIndex(shard))).toBe(1);
  });

  it('schedules an audience in one call per shard', async () => {
    const keys = freshKeys({ dueShards: 4 });
    const schedule = createDueSchedule(redis, keys);
    const users = Array.from({ length: 12_000 }, (_, index) => `aud-${index}`);
    expect(
      await schedule.schedule(
        branch,
        SECOND,
        users.map((user) => member(user)),
      ),
    ).toBe(12_000);
    let total = 0;
    for (let shard = 0; shard < 4; shard++) {
      const size = await redis.scard(keys.dueSet({ shard, branch, dueSecond: SECOND }));
      expect(size).toBe(users.filter((user) => keys.dueShardOf(user) === shard).length);
      total += size;
    }
    expect(total).toBe(12_000);
    expect(await schedule.schedule(branch, SECOND, [])).toBe(0);
  });

  it('lists the due sets of a shard whose second has come, oldest first', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    const users = usersOfShard(keys, 2, 1);
    const other: DueBranch = { journeyId: 'j2', version: 1, stepId: 'act' };
    await schedule.schedule(branch, SECOND + 10, [member(users[0]!)]);
    await schedule.schedule(other, SECOND, [member(users[0]!)]);
    await schedule.schedule(branch, SECOND + 60, [member(users[0]!)]);

    const { due, invalid } = await schedule.dueSets(2, { nowSecond: SECOND + 10 });
    expect(invalid).toEqual([]);
    expect(due.map((entry) => entry.ref)).toEqual([
      { shard: 2, branch: other, dueSecond: SECOND },
      { shard: 2, branch, dueSecond: SECOND + 10 },
    ]);
    expect(due[0]?.key).toBe(keys.dueSet({ shard: 2, branch: other, dueSecond: SECOND }));
    expect((await schedule.dueSets(2, { nowSecond: SECOND + 60, limit: 1 })).due).toHaveLength(1);
    expect((await schedule.dueSets(2, { nowSecond: SECOND - 1 })).due).toEqual([]);

    await redis.zadd(keys.dueIndex(2), SECOND, 'garbage');
    expect((await schedule.dueSets(2, { nowSecond: SECOND })).invalid).toEqual(['garbage']);
  });

  it('refuses members it could not decode again, and bad script arguments', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    await expect(schedule.schedule(branch, SECOND, [member('bad|user')])).rejects.toThrow(InvalidInputError);
    await expect(schedule.schedule(branch, -1, [member('u')])).rejects.toThrow(InvalidInputError);
    const ref = { shard: 0, branch, dueSecond: SECOND };
    await expect(runScript(redis, 'scheduleDue', [keys.dueSet(ref), keys.dueIndex(0), keys.dueWaiting(0)], [SECOND])).rejects.toThrow(
      BadScriptArgumentsError,
    );
    await expect(runScript(redis, 'scheduleDue', [keys.dueSet(ref), keys.dueIndex(0), keys.dueWaiting(0)], ['soon', 'm'])).rejects.toThrow(
      BadScriptArgumentsError,
    );
    expect(await keysOf(redis, keys)).toEqual([]);
  });

  it('keeps a waiting user under 100 bytes of Redis memory at the member budget', async () => {
    const keys = freshKeys({ dueShards: 1 });
    const schedule = createDueSchedule(redis, keys);
    // A 24-character user id, a 10-character entry id and short tokens: exactly MEMBER_BUDGET_BYTES.
    const members = Array.from({ length: 20_000 }, (_, index) => ({
      userId: `usr_${String(index).padStart(20, '0')}`,
      entryId: `en${String(index).padStart(8, '0')}`,
      expectedToken: 's3a',
      ownToken: 's4b1',
    }));
    expect(Math.max(...members.map((each) => Buffer.byteLength(encodeDueMember(each))))).toBe(MEMBER_BUDGET_BYTES);
    await schedule.schedule(branch, SECOND, members);
    const bytes = Number(await redis.call('MEMORY', 'USAGE', keys.dueSet({ shard: 0, branch, dueSecond: SECOND }), 'SAMPLES', '0'));
    expect(bytes / members.length).toBeLessThan(100);
  });
});

describe('due schedule: carving', () => {
  it('carves 450 members into 200, 200, 50 and then nothing; the index entry goes only when the set is empty', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    const ref = await scheduleInOneSet(keys, schedule, 450);
    const setKey = keys.dueSet(ref);

    const sizes: number[] = [];
    const seen = new Set<string>();
    for (let carve = 0; carve < 3; carve++) {
      const carved = await schedule.carve(ref, { nowMs: 1_000 + carve });
      expect(carved).not.toBeNull();
      sizes.push(carved!.size);
      expect(await redis.zscore(keys.batches(0), carved!.key)).toBe(String(1_000 + carve));
      const { members, invalid } = await schedule.batchMembers(carved!.batch);
      expect(invalid).toEqual([]);
      expect(members).toHaveLength(carved!.size);
      for (const each of members) seen.add(each.userId);
      expect(await redis.zscore(keys.dueIndex(0), setKey)).toBe(carve < 2 ? String(SECOND) : null);
      // The operators' count of waiting users follows every carve without summing the sets.
      expect((await schedule.backlog(0)).usersWaiting).toBe(450 - sizes.reduce((sum, size) => sum + size, 0));
    }
    expect(sizes).toEqual([200, 200, 50]);
    expect(seen.size).toBe(450);
    expect(await schedule.carve(ref)).toBeNull();
    expect(await redis.get(keys.dueWaiting(0))).toBe('0');
    // A member scheduled before the counter existed never drives it below zero.
    await schedule.schedule(branch, SECOND, [member(usersOfShard(keys, 0, 1)[0]!, 'e1')]);
    await redis.del(keys.dueWaiting(0));
    expect((await schedule.carve(ref))?.size).toBe(1);
    expect(await redis.get(keys.dueWaiting(0))).toBe('0');
    expect(await redis.zcard(keys.batches(0))).toBe(4);
    expect(await redis.exists(setKey)).toBe(0);

    // Scheduled again after it was emptied: the set is back in the index.
    await schedule.schedule(branch, SECOND, [member(usersOfShard(keys, 0, 1)[0]!, 'e2')]);
    expect(await redis.zscore(keys.dueIndex(0), setKey)).toBe(String(SECOND));
    expect((await schedule.carve(ref))?.size).toBe(1);
  });

  it('drops a stale index entry whose set is already gone', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    const ref = { shard: 1, branch, dueSecond: SECOND };
    await redis.zadd(keys.dueIndex(1), SECOND, keys.dueSet(ref));
    expect(await schedule.carve(ref)).toBeNull();
    expect(await redis.zcard(keys.dueIndex(1))).toBe(0);
    expect(await redis.zcard(keys.batches(1))).toBe(0);
  });

  it('20 concurrent carvers never hand out a member twice and lose none', async () => {
    const keys = freshKeys();
    const connections = await Promise.all(Array.from({ length: 5 }, () => connect()));
    const ref = await scheduleInOneSet(keys, createDueSchedule(redis, keys), 1000);

    const carvers = Array.from({ length: 20 }, async (_, index) => {
      const schedule = createDueSchedule(connections[index % connections.length]!, keys);
      const batches = [];
      for (;;) {
        const carved = await schedule.carve(ref, { maxMembers: 7 + index });
        if (!carved) return batches;
        batches.push(carved);
      }
    });
    const batches = (await Promise.all(carvers)).flat();
    const schedule = createDueSchedule(redis, keys);
    const handedOut: string[] = [];
    for (const carved of batches) {
      const { members } = await schedule.batchMembers(carved.batch);
      expect(members).toHaveLength(carved.size);
      handedOut.push(...members.map((each) => each.userId));
    }
    expect(handedOut).toHaveLength(1000);
    expect(new Set(handedOut).size).toBe(1000);
    expect(new Set(batches.map((carved) => carved.key)).size).toBe(batches.length);
    expect(await redis.zcard(keys.batches(0))).toBe(batches.length);
    expect(await redis.zcard(keys.dueIndex(0))).toBe(0);
  });

  it('never merges into an existing batch set', async () => {
    const keys = freshKeys();
    const ref = await scheduleInOneSet(keys, createDueSchedule(redis, keys), 3);
    const batchKey = keys.batch({ ...ref, nonce: 'taken' });
    await redis.sadd(batchKey, 'someone|e||t');
    const error = await runScript(
      redis,
      'carveBatch',
      [keys.dueSet(ref), keys.dueIndex(0), batchKey, keys.batches(0), keys.dueWaiting(0)],
      [200, 1],
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BatchExistsError);
    expect(error).toMatchObject({ code: 'BATCH_EXISTS', unrecoverable: false });
    expect(await redis.scard(keys.dueSet(ref))).toBe(3);
    expect(await redis.scard(batchKey)).toBe(1);
    await expect(
      runScript(redis, 'carveBatch', [keys.dueSet(ref), keys.dueIndex(0), batchKey, keys.batches(0), keys.dueWaiting(0)], [0, 1]),
    ).rejects.toThrow(BadScriptArgumentsError);
  });
});

describe('due schedule: finishing and recovery', () => {
  it('finishes a batch once, and lists unfinished batches older than a threshold', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    const ref = await scheduleInOneSet(keys, schedule, 500);
    const first = (await schedule.carve(ref, { nowMs: 10_000 }))!;
    const second = (await schedule.carve(ref, { nowMs: 20_000 }))!;
    const third = (await schedule.carve(ref, { nowMs: 30_000 }))!;

    const { stale, invalid } = await schedule.staleBatches(0, { olderThanMs: 5_000, nowMs: 25_000 });
    expect(invalid).toEqual([]);
    expect(stale).toEqual([
      { batch: first.batch, key: first.key, carvedAtMs: 10_000 },
      { batch: second.batch, key: second.key, carvedAtMs: 20_000 },
    ]);

    expect(await schedule.finish(first.batch)).toBe(true);
    expect(await schedule.finish(first.batch)).toBe(false);
    expect(await redis.exists(first.key)).toBe(0);
    expect((await schedule.staleBatches(0, { olderThanMs: 0, nowMs: 40_000 })).stale.map((each) => each.key)).toEqual([
      second.key,
      third.key,
    ]);

    expect(await schedule.backlog(0)).toEqual({
      dueSets: 0,
      usersWaiting: 0,
      oldestDueSecond: null,
      unfinishedBatches: 2,
      oldestBatchCarvedAtMs: 20_000,
    });
    await schedule.schedule(branch, SECOND + 5, [member(usersOfShard(keys, 0, 1)[0]!, 'e9')]);
    expect(await schedule.backlog(0)).toMatchObject({ dueSets: 1, usersWaiting: 1, oldestDueSecond: SECOND + 5 });
  });

  it('reports batch members it cannot decode instead of throwing', async () => {
    const keys = freshKeys();
    const schedule = createDueSchedule(redis, keys);
    const ref = await scheduleInOneSet(keys, schedule, 2);
    const carved = (await schedule.carve(ref))!;
    await redis.sadd(carved.key, 'not-a-member', encodeDueMember(member(usersOfShard(keys, 1, 1)[0]!)));
    const { members, invalid } = await schedule.batchMembers(carved.batch);
    expect(members).toHaveLength(2);
    expect(invalid).toHaveLength(2);
  });
});
