import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { JOURNEY_TOTAL } from '@journey/core';
import { createStats, STATS_BUCKETS, type StatCounter } from '../src/stats.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

// An hour ago: bucket hashes expire by the real clock (Redis's), so their times are near it.
const T = (Math.floor(Date.now() / 3_600_000) - 1) * 3_600_000 + 34 * 60_000;
const zero = { entered: 0, sent: 0, skipped: 0, exited: 0, converted: 0, failed: 0 };

describe('stats', () => {
  it('increments several counters in one call and reads them back typed', async () => {
    const keys = freshKeys();
    const stats = createStats(redis, keys);
    await stats.increment(
      'j1',
      1,
      [
        { stepId: 'welcome', counter: 'entered' },
        { stepId: 'welcome', counter: 'entered' },
        { stepId: 'welcome', counter: 'sent' },
        { stepId: 'split', branchId: 'vip', counter: 'entered', by: 3 },
        { stepId: 'split', counter: 'entered', by: 5 },
      ],
      T,
    );
    await stats.increment('j1', 1, [{ stepId: 'welcome', counter: 'sent', by: 2 }], T);
    await stats.increment('j1', 2, [{ stepId: 'welcome', counter: 'converted' }], T);

    expect(await stats.read('j1', 1)).toEqual({
      journey: zero,
      steps: {
        welcome: { counters: { ...zero, entered: 2, sent: 3 }, branches: {} },
        split: { counters: { ...zero, entered: 5 }, branches: { vip: { ...zero, entered: 3 } } },
      },
      invalidFields: [],
    });
    expect((await stats.read('j1', 2)).steps.welcome?.counters.converted).toBe(1);
    expect(await stats.read('j1', 3)).toEqual({ journey: zero, steps: {}, invalidFields: [] });
  });

  it('counts concurrent increments exactly', async () => {
    const keys = freshKeys();
    const stats = createStats(redis, keys);
    await Promise.all(
      Array.from({ length: 50 }, () =>
        stats.increment(
          'j1',
          1,
          [
            { stepId: 's', counter: 'sent' },
            { stepId: 's', branchId: 'A', counter: 'sent' },
          ],
          T,
        ),
      ),
    );
    const read = await stats.read('j1', 1);
    expect(read.steps.s?.counters.sent).toBe(50);
    expect(read.steps.s?.branches.A?.sent).toBe(50);
  });

  it('reports stray fields instead of throwing, and refuses bad increments', async () => {
    const keys = freshKeys();
    const stats = createStats(redis, keys);
    await redis.hset(keys.stats('j1', 1), 'welcome:sent', '4', 'welcome:bogus', '1', 'a:b:c:sent', '1', 'welcome:entered', 'many');
    expect(await stats.read('j1', 1)).toEqual({
      journey: zero,
      steps: { welcome: { counters: { ...zero, sent: 4 }, branches: {} } },
      invalidFields: expect.arrayContaining(['welcome:bogus', 'a:b:c:sent', 'welcome:entered']),
    });
    await expect(stats.increment('j1', 1, [{ stepId: 'a:b', counter: 'sent' }], T)).rejects.toThrow(InvalidInputError);
    await expect(stats.increment('j1', 1, [{ stepId: 'a', counter: 'opened' as StatCounter }], T)).rejects.toThrow(InvalidInputError);
    await expect(stats.increment('j1', 1, [{ stepId: 'a', counter: 'sent', by: 0.5 }], T)).rejects.toThrow(InvalidInputError);
    await stats.increment('j1', 1, [], T);
  });

  it('keeps journey-wide counters, and the same counters per hour and day in buckets that expire', async () => {
    const keys = freshKeys();
    const stats = createStats(redis, keys);
    const hour = Math.floor(T / 3_600_000) * 3_600;
    await stats.increment(
      'j1',
      1,
      [
        { stepId: JOURNEY_TOTAL, counter: 'entered' },
        { stepId: 'w', counter: 'sent' },
      ],
      T,
    );
    await stats.increment('j1', 1, [{ stepId: JOURNEY_TOTAL, counter: 'converted' }], T + 3_600_000);
    expect((await stats.read('j1', 1)).journey).toEqual({ ...zero, entered: 1, converted: 1 });
    const hours = await stats.readBuckets('j1', 1, 'hour', hour - 3_600, hour + 3 * 3_600);
    expect(
      hours.map((bucket) => [bucket.start, bucket.journey.entered, bucket.journey.converted, bucket.steps.w?.counters.sent ?? 0]),
    ).toEqual([
      [hour, 1, 0, 1],
      [hour + 3_600, 0, 1, 0],
    ]);
    const days = await stats.readBuckets('j1', 1, 'day', hour - 86_400, hour + 86_400);
    expect(days.every((bucket) => bucket.start % 86_400 === 0)).toBe(true);
    expect(days.reduce((sum, bucket) => sum + bucket.journey.entered + bucket.journey.converted, 0)).toBe(2);
    const ttl = await redis.ttl(keys.statsBucket('j1', 1, 'h', hour));
    const expected = hour + 3_600 + STATS_BUCKETS.hour.keptSeconds - Math.floor(Date.now() / 1000);
    expect(Math.abs(ttl - expected)).toBeLessThan(5);
    await stats.remove('j1', 1);
    expect((await stats.read('j1', 1)).journey).toEqual(zero);
  });
});
