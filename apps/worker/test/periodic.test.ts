import { createLogger } from '@journey/config';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPeriodic } from '../src/periodic.js';

const logger = createLogger({ name: 'periodic-test', level: 'silent' });

describe('startPeriodic', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs every interval, and waits twice as long after each failed run in a row, up to 5 s', async () => {
    let runs = 0;
    let failing = true;
    const periodic = startPeriodic(
      async () => {
        runs++;
        if (failing) throw new Error('Redis cannot serve');
      },
      { intervalMs: 200, logger, what: 'test task' },
    );
    // Failing: runs at 0, then after waits of 400, 800, 1,600, 3,200 and 5,000 ms: 6 runs in 11 s (56 every 200 ms).
    await vi.advanceTimersByTimeAsync(11_000);
    expect(runs).toBe(6);
    // Once a run succeeds the interval is back to 200 ms.
    failing = false;
    await vi.advanceTimersByTimeAsync(5_000);
    const recovered = runs;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs - recovered).toBe(5);
    await periodic.stop();
  });
});
