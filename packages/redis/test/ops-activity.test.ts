import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsActivity, FAILURES_KEPT } from '../src/ops-activity.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

const T = 1_800_000_000_000; // a whole second, epoch ms

describe('ops activity', () => {
  it('sums the full seconds of the window before now, and leaves the current second out', async () => {
    const keys = freshKeys();
    const activity = createOpsActivity(redis, keys);
    await activity.record({ dispatched: 200, sent: 190, failed: 4, skipped: 6 }, T - 61_000); // outside the minute
    await activity.record({ dispatched: 100, sent: 90 }, T - 60_000);
    await activity.record({ dispatched: 20, failed: 1, skipped: 0 }, T - 1);
    await activity.record({ dispatched: 7 }, T); // the second under way
    const window = await activity.window({ nowMs: T + 500 });
    expect(window.totals).toEqual({ dispatched: 120, sent: 90, failed: 1, skipped: 0 });
    expect(window.perSecond).toEqual({ dispatched: 2, sent: 1.5, failed: 0.02, skipped: 0 });
    expect(await redis.ttl(keys.opsActivity(Math.floor((T - 1) / 1000)))).toBeGreaterThan(60);
  });

  it('writes nothing for counts of zero', async () => {
    const keys = freshKeys();
    await createOpsActivity(redis, keys).record({ dispatched: 0, sent: 0 }, T);
    expect(await redis.exists(keys.opsActivity(T / 1000))).toBe(0);
  });

  it('keeps the newest failures, capped, and skips entries it cannot read', async () => {
    const keys = freshKeys();
    const activity = createOpsActivity(redis, keys);
    for (let index = 0; index < FAILURES_KEPT + 5; index++) {
      await activity.recordFailure({
        at: T + index,
        source: 'send',
        reason: `http_4xx ${index}`,
        journeyId: 'j1',
        stepId: 'welcome',
        userId: `u${index}`,
      });
    }
    await redis.lpush(keys.opsFailures(), 'not json', JSON.stringify({ at: 'yesterday' }));
    expect(await redis.llen(keys.opsFailures())).toBe(FAILURES_KEPT + 2);
    const recent = await activity.recentFailures(3);
    expect(recent).toEqual([
      {
        at: T + FAILURES_KEPT + 4,
        source: 'send',
        reason: `http_4xx ${FAILURES_KEPT + 4}`,
        journeyId: 'j1',
        stepId: 'welcome',
        userId: `u${FAILURES_KEPT + 4}`,
      },
    ]);
    expect((await activity.recentFailures(10)).map((failure) => failure.userId)).toEqual(
      Array.from({ length: 8 }, (_, index) => `u${FAILURES_KEPT + 4 - index}`),
    );
  });
});
