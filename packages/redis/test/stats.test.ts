import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { createStats, type StatCounter } from '../src/stats.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

const zero = { entered: 0, sent: 0, skipped: 0, exited: 0, converted: 0, failed: 0 };

describe('stats', () => {
  it('increments several counters in one call and reads them back typed', async () => {
    const keys = freshKeys();
    const stats = createStats(redis, keys);
    await stats.increment('j1', 1, [
      { stepId: 'welcome', counter: 'entered' },
      { stepId: 'welcome', counter: 'entered' },
      { stepId: 'welcome', counter: 'sent' },
      { stepId: 'split', branchId: 'vip', counter: 'entered', by: 3 },
      { stepId: 'split', counter: 'entered', by: 5 },
    ]);
    await stats.increment('j1', 1, [{ stepId: 'welcome', counter: 'sent', by: 2 }]);
    await stats.increment('j1', 2, [{ stepId: 'welcome', counter: 'converted' }]);

    expect(await stats.read('j1', 1)).toEqual({
      steps: {
        welcome: { counters: { ...zero, entered: 2, sent: 3 }, branches: {} },
        split: { counters: { ...zero, entered: 5 }, branches: { vip: { ...zero, entered: 3 } } },
      },
      invalidFields: [],
    });
    expect((await stats.read('j1', 2)).steps.welcome?.counters.converted).toBe(1);
    expect(await stats.read('j1', 3)).toEqual({ steps: {}, invalidFields: [] });
  });

  it('counts concurrent increments exactly', async () => {
    const keys = freshKeys();
    const stats = createStats(redis, keys);
    await Promise.all(
      Array.from({ length: 50 }, () =>
        stats.increment('j1', 1, [
          { stepId: 's', counter: 'sent' },
          { stepId: 's', branchId: 'A', counter: 'sent' },
        ]),
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
      steps: { welcome: { counters: { ...zero, sent: 4 }, branches: {} } },
      invalidFields: expect.arrayContaining(['welcome:bogus', 'a:b:c:sent', 'welcome:entered']),
    });
    await expect(stats.increment('j1', 1, [{ stepId: 'a:b', counter: 'sent' }])).rejects.toThrow(InvalidInputError);
    await expect(stats.increment('j1', 1, [{ stepId: 'a', counter: 'opened' as StatCounter }])).rejects.toThrow(InvalidInputError);
    await expect(stats.increment('j1', 1, [{ stepId: 'a', counter: 'sent', by: 0.5 }])).rejects.toThrow(InvalidInputError);
    await stats.increment('j1', 1, []);
  });
});
