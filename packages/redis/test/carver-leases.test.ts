import { eventually } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCarverLeases } from '../src/carver-leases.js';
import type { RedisClient } from '../src/connection.js';
import { InvalidInputError } from '../src/errors.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

describe('carver leases', () => {
  it('gives a shard to one holder at a time: it renews it, others wait until it is released or lapses', async () => {
    const keys = freshKeys({ dueShards: 2 });
    const leases = createCarverLeases(redis, keys);
    expect(await leases.take(0, 'a', 60_000)).toBe(true);
    expect(await leases.take(0, 'b', 60_000)).toBe(false);
    expect(await leases.take(1, 'b', 60_000)).toBe(true);
    // Renewing re-arms the expiry of the holder's own lease.
    expect(await leases.take(0, 'a', 120_000)).toBe(true);
    expect(await redis.pttl(keys.carverLease(0))).toBeGreaterThan(60_000);
    // Only the holder releases.
    expect(await leases.release(0, 'b')).toBe(false);
    expect(await leases.release(0, 'a')).toBe(true);
    expect(await leases.take(0, 'b', 200)).toBe(true);
    await eventually(async () => (await leases.take(0, 'a', 60_000)) || undefined, { what: 'the lapsed lease taken over' });
    expect(await redis.get(keys.carverLease(0))).toBe('a');
    await expect(leases.take(0, 'no spaces', 1_000)).rejects.toThrow(InvalidInputError);
    await expect(leases.take(0, 'a', 0)).rejects.toThrow(InvalidInputError);
  });

  it('tells the schedulers alive, on Redis’s clock: a heartbeat lasts its time, leaving ends it at once', async () => {
    const keys = freshKeys();
    const leases = createCarverLeases(redis, keys);
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
