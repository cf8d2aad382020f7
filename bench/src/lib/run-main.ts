import { constants } from 'node:os';

/**
 * Runs a benchmark's main and exits with its outcome: connections the engine's pieces leave behind (BullMQ, undici)
 * must not keep a finished benchmark alive, and an error prints its stack and exits non-zero. A benchmark stopped by
 * SIGINT or SIGTERM exits through process.exit too, so the exit handlers kill the servers and workers it started
 * (they run in process groups of their own, which a Ctrl-C does not reach).
 */
export function runMain(main: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`stopped by ${signal}`);
      process.exit(128 + constants.signals[signal]);
    });
  }
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
