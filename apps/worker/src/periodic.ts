import type { Logger } from '@journey/config';

export interface Periodic {
  /** Stops after the run under way. */
  stop(): Promise<void>;
}

/** The longest pause after failed runs (unless the interval itself is longer). */
const MAX_BACKOFF_MS = 5_000;

/**
 * Runs `task` now and then `intervalMs` after each run ends (runs never overlap). A failed run is logged and the next
 * one tries again, after twice the pause of the one before while they keep failing (up to 5 s): a store that cannot
 * serve is not asked several times a second, nor is the log filled. The timer never keeps the process alive.
 */
export function startPeriodic(task: () => Promise<unknown>, options: { intervalMs: number; logger: Logger; what: string }): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let failures = 0;

  function tick(): void {
    running = task()
      .then(
        () => (failures = 0),
        (error: unknown) => {
          failures++;
          options.logger.warn({ err: error, failures }, `${options.what} failed; trying again at the next run`);
        },
      )
      .finally(() => {
        if (stopped) return;
        const backoff = Math.min(Math.max(MAX_BACKOFF_MS, options.intervalMs), options.intervalMs * 2 ** failures);
        timer = setTimeout(tick, failures === 0 ? options.intervalMs : backoff);
        timer.unref();
      });
  }
  tick();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
