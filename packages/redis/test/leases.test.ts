import { eventually } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeases } from '../src/leases.js';
import type { RedisClient } from '../src/connection.js';
import { InvalidInputError } from '../src/errors.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

describe('leases', () => {
  it('gives a shard to one holder at a time: it renews it, others wait until it is released or lapses', async () => {
    const keys = freshKeys({ dueShards: 2 });
    const leases = createLeases(redis, keys);
    const [shard0, shard1] = [keys.carverLease(0), keys.carverLease(1)];
    expect(await leases.take(shard0, 'a', 60_000)).toBe(true);
    expect(await leases.take(shard0, 'b', 60_000)).toBe(false);
    expect(await leases.take(shard1, 'b', 60_000)).toBe(true);
    // Renewing re-arms the expiry of the holder's own lease.
    expect(await leases.take(shard0, 'a', 120_000)).toBe(true);
    expect(await redis.pttl(shard0)).toBeGreaterThan(60_000);
    // Only the holder releases.
    await leases.release(shard0, 'b');
    expect(await redis.get(shard0)).toBe('a');
    await leases.release(shard0, 'a');
    expect(await leases.take(shard0, 'b', 200)).toBe(true);
    await eventually(async () => (await leases.take(shard0, 'a', 60_000)) || undefined, { what: 'the lapsed lease taken over' });
    expect(await redis.get(shard0)).toBe('a');
    await expect(leases.take(shard0, 'no spaces', 1_000)).rejects.toThrow(InvalidInputError);
    await expect(leases.take(shard0, 'a', 0)).rejects.toThrow(InvalidInputError);
  });

  it('claims a holder’s leases in one script: takes or renews the wanted ones, gives up the others it has', async () => {
    const keys = freshKeys({ dueShards: 4 });
    const leases = createLeases(redis, keys);
    const all = [0, 1, 2, 3].map((shard) => keys.carverLease(shard));
    expect(await leases.take(all[3]!, 'b', 60_000)).toBe(true);
    expect(await leases.claim(all, 'a', 60_000, [true, true, false, true])).toEqual([true, true, false, false]);
    // Shard 1 no longer wanted: given up; shard 2 wanted now; shard 3 is still b's.
    expect(await leases.claim(all, 'a', 60_000, [true, false, true, true])).toEqual([true, false, true, false]);
    expect(await Promise.all(all.map((key) => redis.get(key)))).toEqual(['a', null, 'a', 'b']);
    await expect(leases.claim(all, 'a', 60_000, [true])).rejects.toThrow(InvalidInputError);
  });

  it('tells the schedulers alive, on Redis’s clock: a heartbeat lasts its time, leaving ends it at once', async () => {
    const keys = freshKeys();
    const leases = createLeases(redis, keys);
    expect(await leases.heartbeat('b', 60_000)).toEqual(['b']);
    expect(await leases.heartbeat('a', 300)).toEqual(['a', 'b']);
    await eventually(async () => (await leases.heartbeat('b', 60_000)).length === 1 || undefined, { what: 'a lapsed' });
    expect(await leases.heartbeat('c', 60_000)).toEqual(['b', 'c']);
    await leases.leave('b');
    expect(await leases.heartbeat('c', 60_000)).toEqual(['c']);
    // The set goes with its last member.
    await leases.leave('c');
    expect(await redis.exists(keys.carvers())).toBe(0);
  });
});
