import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBranchLock, type BranchLockTarget } from '../src/branch-lock.js';
import { BadScriptArgumentsError, InvalidInputError, LockNotHeldError } from '../src/errors.js';
import { runScript } from '../src/scripts.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

const target: BranchLockTarget = { journeyId: 'j1', userId: 'user:1', entryId: 'e1' };
const DAY = 86_400_000;

describe('branch lock', () => {
  it("takes and settles a batch's locks together, every member on its own", async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    const shard = keys.dueShardOf('u0');
    const users = Array.from({ length: 400 }, (_, index) => `u${index}`)
      .filter((user) => keys.dueShardOf(user) === shard)
      .slice(0, 5);
    const of = (userId: string): BranchLockTarget => ({ journeyId: 'j1', userId, entryId: 'e1' });
    const [first, second, third, fourth, fifth] = users.map(of);
    await lock.take(second!, { expectedToken: '', ownToken: '0' }, DAY);
    await lock.seal(third!, '-', DAY);
    const lease = { now: 1_000, ms: 30_000, tryId: 'batch-try' };
    const taken = await lock.takeMany(
      [
        { target: first!, expectedToken: '', ownToken: '0' },
        { target: second!, expectedToken: '0', ownToken: '1' },
        { target: third!, expectedToken: '0', ownToken: '1' },
        { target: fourth!, expectedToken: '3', ownToken: '4' },
        { target: fifth!, expectedToken: '', ownToken: '0' },
      ],
      DAY,
      lease,
    );
    expect(taken).toEqual([
      { status: 'acquired' },
      { status: 'acquired' },
      { status: 'lost', current: '-' },
      { status: 'lost', current: null },
      { status: 'acquired' },
    ]);
    const settled = await lock.settleMany([
      { target: first!, ownToken: '0', release: true },
      { target: second!, ownToken: '1', extendMs: 5 * DAY },
      // A seal written since (an exit) is kept whatever the member asks.
      { target: third!, ownToken: '1', extendMs: DAY },
      { target: fourth!, ownToken: '4', release: true },
    ]);
    expect(settled).toEqual([true, true, false, false]);
    expect(await lock.current(first!)).toBeNull();
    expect(await redis.get(keys.branchLock('j1', second!.userId, 'e1'))).toBe('1');
    expect(await redis.pttl(keys.branchLock('j1', second!.userId, 'e1'))).toBeGreaterThan(4 * DAY);
    expect(await lock.current(third!)).toBe('-');
    expect(await redis.pttl(keys.branchLock('j1', third!.userId, 'e1'))).toBeGreaterThan(0);
    expect(await redis.exists(keys.branchLock('j1', fourth!.userId, 'e1'))).toBe(0);
    // The lease of the batch's try is on the lock it still holds.
    expect(await redis.get(keys.branchLock('j1', fifth!.userId, 'e1'))).toBe('0 31000 batch-try');
  });

  it('takes the locks of users of different due shards with a script per slot, in input order', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    const users = Array.from({ length: 40 }, (_, index) => `mixed-${index}`);
    expect(new Set(users.map((user) => keys.dueShardOf(user))).size).toBeGreaterThan(1);
    const claims = users.map((userId, index) => ({
      target: { journeyId: 'j1', userId, entryId: 'e1' },
      expectedToken: index % 2 === 0 ? '' : '7',
      ownToken: '8',
    }));
    const taken = await lock.takeMany(claims, DAY);
    expect(taken).toEqual(users.map((_, index) => (index % 2 === 0 ? { status: 'acquired' } : { status: 'lost', current: null })));
  });

  it('lets one try of an item at a time past the lock: another try finds it busy until the lease lapses or the try is past its send', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    const now = Date.parse('2026-12-06T12:00:00Z');
    const first = { now, ms: 30_000, tryId: 'try-1' };
    expect(await lock.take(target, { expectedToken: '', ownToken: '0' }, DAY, first)).toEqual({ status: 'acquired' });
    expect(await lock.current(target)).toBe('0');
    // A duplicate of the item in another batch, or the same batch run twice at once: it must not post too.
    expect(await lock.take(target, { expectedToken: '', ownToken: '0' }, DAY, { now: now + 1_000, ms: 30_000, tryId: 'try-2' })).toEqual({
      status: 'busy',
      until: now + 30_000,
    });
    // The try itself resumes its own lease; a racing branch still loses.
    expect(await lock.take(target, { expectedToken: '', ownToken: '0' }, DAY, { ...first, now: now + 2_000 })).toEqual({
      status: 'resume',
    });
    expect(await lock.take(target, { expectedToken: '', ownToken: 'other' }, DAY, { now, ms: 30_000, tryId: 'try-3' })).toEqual({
      status: 'lost',
      current: '0',
    });
    // A try that died leaves its lease to lapse: then another try resumes.
    expect(await lock.take(target, { expectedToken: '', ownToken: '0' }, DAY, { now: now + 32_000, ms: 30_000, tryId: 'try-2' })).toEqual({
      status: 'resume',
    });
    // Past its send, the try extends the lock: the lease ends, and a retried try resumes at once.
    await lock.extend(target, '0', DAY);
    expect(await redis.get(keys.branchLock('j1', 'user:1', 'e1'))).toBe('0');
    expect(await lock.take(target, { expectedToken: '', ownToken: '0' }, DAY, { now: now + 33_000, ms: 30_000, tryId: 'try-4' })).toEqual({
      status: 'resume',
    });
    // The next item takes a leased lock over, and the ended entry's holder releases a leased lock.
    expect(await lock.take(target, { expectedToken: '0', ownToken: '1' }, DAY, { now: now + 34_000, ms: 30_000, tryId: 'try-5' })).toEqual({
      status: 'acquired',
    });
    expect(await lock.release(target, '1')).toBe(true);
    expect(await lock.current(target)).toBeNull();
  });

  it('the first step takes an absent lock; a second "first step" loses to it', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    expect(await lock.take(target, { expectedToken: '', ownToken: 's1' }, DAY)).toEqual({ status: 'acquired' });
    expect(await lock.current(target)).toBe('s1');
    expect(await lock.take(target, { expectedToken: '', ownToken: 's1x' }, DAY)).toEqual({ status: 'lost', current: 's1' });
    const ttl = await redis.pttl(keys.branchLock('j1', 'user:1', 'e1'));
    expect(ttl).toBeGreaterThan(DAY - 5_000);
    expect(ttl).toBeLessThanOrEqual(DAY);
  });

  it('racing branches expecting the same token: exactly one acquires; its retry resumes; the losers stay lost', async () => {
    const keys = freshKeys();
    const connections = await Promise.all(Array.from({ length: 4 }, () => connect()));
    await createBranchLock(redis, keys).take(target, { expectedToken: '', ownToken: 'await' }, DAY);

    const contenders = Array.from({ length: 12 }, (_, index) => `path${index}`);
    const results = await Promise.all(
      contenders.map((own, index) =>
        createBranchLock(connections[index % 4]!, keys).take(target, { expectedToken: 'await', ownToken: own }, DAY),
      ),
    );
    const winners = contenders.filter((_, index) => results[index]?.status === 'acquired');
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    for (const [index, result] of results.entries()) {
      if (contenders[index] !== winner) expect(result).toEqual({ status: 'lost', current: winner });
    }

    const lock = createBranchLock(redis, keys);
    expect(await lock.take(target, { expectedToken: 'await', ownToken: winner }, DAY)).toEqual({ status: 'resume' });
    const loser = contenders.find((own) => own !== winner)!;
    expect(await lock.take(target, { expectedToken: 'await', ownToken: loser }, DAY)).toEqual({ status: 'lost', current: winner });
    // The next step of the winner takes over from the winner's token.
    expect(await lock.take(target, { expectedToken: winner, ownToken: 'next' }, DAY)).toEqual({ status: 'acquired' });
    expect(await lock.current(target)).toBe('next');
  });

  it('is lost, not taken, when a token is expected but the key is gone', async () => {
    const lock = createBranchLock(redis, freshKeys());
    expect(await lock.take(target, { expectedToken: 's1', ownToken: 's2' }, DAY)).toEqual({ status: 'lost', current: null });
    expect(await lock.current(target)).toBeNull();
  });

  it('locks each (journey, user, entry) on its own', async () => {
    const lock = createBranchLock(redis, freshKeys());
    for (const other of [{ ...target, entryId: 'e2' }, { ...target, userId: 'user:2' }, { ...target, journeyId: 'j2' }, target]) {
      expect(await lock.take(other, { expectedToken: '', ownToken: 's1' }, DAY)).toEqual({ status: 'acquired' });
    }
  });

  it('only the holder extends it', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    const key = keys.branchLock(target.journeyId, target.userId, target.entryId);
    await lock.take(target, { expectedToken: '', ownToken: 's1' }, 10_000);
    await lock.extend(target, 's1', DAY);
    expect(await redis.pttl(key)).toBeGreaterThan(DAY - 5_000);

    const error = await lock.extend(target, 'intruder', 50).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockNotHeldError);
    expect(error).toMatchObject({ code: 'LOCK_NOT_HELD', unrecoverable: true });
    expect(await redis.get(key)).toBe('s1');
    expect(await redis.pttl(key)).toBeGreaterThan(DAY - 5_000);
    await expect(createBranchLock(redis, freshKeys()).extend(target, 's1', DAY)).rejects.toThrow(LockNotHeldError);
  });

  it('only the holder releases it; a released lock turns away a later step, not a first one', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    await lock.take(target, { expectedToken: '', ownToken: 's1' }, DAY);
    await lock.take(target, { expectedToken: 's1', ownToken: 's2' }, DAY);
    expect(await lock.release(target, 's1')).toBe(false);
    expect(await lock.current(target)).toBe('s2');

    expect(await lock.release(target, 's2')).toBe(true);
    expect(await lock.current(target)).toBeNull();
    expect(await lock.release(target, 's2')).toBe(false);
    expect(await lock.take(target, { expectedToken: 's2', ownToken: 's3' }, DAY)).toEqual({ status: 'lost', current: null });
    // A first step finds the key absent and takes it: dispatch then finds the entry's committed end state.
    expect(await lock.take(target, { expectedToken: '', ownToken: 's1' }, DAY)).toEqual({ status: 'acquired' });

    const sealed = { ...target, entryId: 'e2' };
    await lock.seal(sealed, 'x', DAY);
    expect(await lock.release(sealed, 's1')).toBe(false);
    expect(await lock.current(sealed)).toBe('x');
    await expect(lock.release(target, '')).rejects.toThrow(InvalidInputError);
  });

  it('a resume re-arms the TTL', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    await lock.take(target, { expectedToken: '', ownToken: 's1' }, 10_000);
    expect(await lock.take(target, { expectedToken: '', ownToken: 's1' }, DAY)).toEqual({ status: 'resume' });
    expect(await redis.pttl(keys.branchLock(target.journeyId, target.userId, target.entryId))).toBeGreaterThan(DAY - 5_000);
  });

  it('a seal overwrites whatever the lock holds, so every scheduled step loses, including a first step', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    const key = keys.branchLock(target.journeyId, target.userId, target.entryId);
    // An entry whose first step has not run yet: no lock at all.
    await lock.seal(target, 'x', DAY);
    expect(await lock.take(target, { expectedToken: '', ownToken: '0' }, DAY)).toEqual({ status: 'lost', current: 'x' });
    expect(await redis.pttl(key)).toBeGreaterThan(DAY - 5_000);

    // An entry waiting on a step: the step and its racing branch both lose.
    const other = { ...target, entryId: 'e2' };
    await lock.take(other, { expectedToken: '', ownToken: '1' }, 10_000);
    await lock.seal(other, 'x', DAY);
    expect(await lock.take(other, { expectedToken: '1', ownToken: '2.bought' }, DAY)).toEqual({ status: 'lost', current: 'x' });
    expect(await lock.take(other, { expectedToken: '1', ownToken: '2.timeout' }, DAY)).toEqual({ status: 'lost', current: 'x' });
    // Sealing again is harmless (a retried exit).
    await lock.seal(other, 'x', DAY);
    expect(await lock.current(other)).toBe('x');

    await expect(lock.seal(target, '', DAY)).rejects.toThrow(InvalidInputError);
    await expect(lock.seal(target, 'x', 0)).rejects.toThrow(InvalidInputError);
  });

  it('refuses malformed tokens and TTLs, in TypeScript and in Lua', async () => {
    const keys = freshKeys();
    const lock = createBranchLock(redis, keys);
    await expect(lock.take(target, { expectedToken: '', ownToken: '' }, DAY)).rejects.toThrow(InvalidInputError);
    await expect(lock.take(target, { expectedToken: 'a', ownToken: 'a' }, DAY)).rejects.toThrow(InvalidInputError);
    await expect(lock.take(target, { expectedToken: 'a|b', ownToken: 'c' }, DAY)).rejects.toThrow(InvalidInputError);
    await expect(lock.take(target, { expectedToken: '', ownToken: 'c' }, 0)).rejects.toThrow(InvalidInputError);
    const key = keys.branchLock(target.journeyId, target.userId, target.entryId);
    // ttl, now, lease, try id, then expected and own token per key.
    for (const args of [
      ['1000', '0', '1000', 't', '', ''],
      ['1000', '0', '1000', 't', 'a', 'a'],
      ['0', '0', '1000', 't', '', 'b'],
      ['1.5', '0', '1000', 't', '', 'b'],
      ['1000', '0', '1000', 't', ''],
      ['1000', '0', '1000', 'a try', '', 'b'],
    ]) {
      await expect(runScript(redis, 'takeBranchLocks', [key], args)).rejects.toThrow(BadScriptArgumentsError);
    }
    // restore TTL, then operation, own token and TTL per key.
    for (const args of [
      ['1000', 'x', '', '1000'],
      ['1000', 'x', 'a', '0'],
      ['1000', 'y', 'a', '1000'],
      ['1000', 'r', 'a'],
    ]) {
      await expect(runScript(redis, 'settleBranchLocks', [key], args)).rejects.toThrow(BadScriptArgumentsError);
    }
    expect(await redis.exists(key)).toBe(0);
  });
});
