/**
 * Runs a benchmark's main and exits with its outcome: connections the engine's pieces leave behind (BullMQ, undici)
 * must not keep a finished benchmark alive, and an error prints its stack and exits non-zero.
 */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
