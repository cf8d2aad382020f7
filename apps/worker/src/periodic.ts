import type { Logger } from '@journey/config';

export interface Periodic {
  /** Stops after the run under way. */
  stop(): Promise<void>;
}

/**
 * Runs `task` now and then `intervalMs` after each run ends (runs never overlap). A failed run is logged and
 * the next one tries again. The timer never keeps the process alive.
 */
export function startPeriodic(task: () => Promise<unknown>, options: { intervalMs: number; logger: Logger; what: string }): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  function tick(): void {
    running = task()
      .catch((error: unknown) => options.logger.warn({ err: error }, `${options.what} failed; trying again at the next run`))
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(tick, options.intervalMs);
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
