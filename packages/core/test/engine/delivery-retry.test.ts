import { describe, expect, it } from 'vitest';
import { nextAttemptAt, type RetryPolicy } from '../../src/index.js';

const t0 = Date.parse('2026-11-23T12:00:00Z');
const policy: RetryPolicy = { windowMs: 60 * 60 * 1000, baseDelayMs: 1_000, maxDelayMs: 10 * 60 * 1000 };

describe('nextAttemptAt', () => {
  it('backs off exponentially with jitter (at least half of each step), due on a whole second', () => {
    let now = t0;
    const waits: number[] = [];
    for (let attempts = 1; attempts <= 8; attempts++) {
      const due = nextAttemptAt(policy, { messageId: 'm1', attempts, firstAttemptAt: t0, now })!;
      expect(due % 1000).toBe(0);
      const step = Math.min(policy.maxDelayMs, 1_000 * 2 ** (attempts - 1));
      expect(due - now).toBeGreaterThanOrEqual(step / 2);
      expect(due - now).toBeLessThanOrEqual(step + 1_000);
      waits.push(due - now);
      now = due;
    }
    expect(waits.at(-1)!).toBeGreaterThan(waits[0]! * 32);
  });

  it('is the same for the same message and attempt, and differs between messages', () => {
    const failed = { attempts: 6, firstAttemptAt: t0, now: t0 + 60_000 };
    expect(nextAttemptAt(policy, { ...failed, messageId: 'm1' })).toBe(nextAttemptAt(policy, { ...failed, messageId: 'm1' }));
    const spread = new Set(Array.from({ length: 20 }, (_, index) => nextAttemptAt(policy, { ...failed, messageId: `m${index}` })));
    expect(spread.size).toBeGreaterThan(5);
  });

  it("waits at least the receiver's Retry-After", () => {
    expect(nextAttemptAt(policy, { messageId: 'm1', attempts: 1, firstAttemptAt: t0, now: t0, retryAfterMs: 120_000 })).toBe(t0 + 120_000);
  });

  it('gives up when the next attempt would fall after the window', () => {
    expect(nextAttemptAt(policy, { messageId: 'm1', attempts: 1, firstAttemptAt: t0, now: t0 + policy.windowMs - 100 })).toBeNull();
    expect(
      nextAttemptAt(policy, { messageId: 'm1', attempts: 1, firstAttemptAt: t0, now: t0, retryAfterMs: policy.windowMs + 1 }),
    ).toBeNull();
  });

  it('retries for a day with the default settings (1 s doubling to 1 h), in a few dozen attempts', () => {
    const day: RetryPolicy = { windowMs: 24 * 60 * 60 * 1000, baseDelayMs: 1_000, maxDelayMs: 60 * 60 * 1000 };
    let now = t0;
    let attempts = 0;
    for (;;) {
      attempts++;
      const due = nextAttemptAt(day, { messageId: 'm1', attempts, firstAttemptAt: t0, now });
      if (due === null) break;
      now = due;
    }
    expect(now - t0).toBeGreaterThan(22 * 60 * 60 * 1000);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(80);
  });
});
