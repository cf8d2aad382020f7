import cliProgress from 'cli-progress';

/** A bar that also reports every 5 s when stdout is no terminal (CI logs, `| tee`). */
function startBar(label: string, total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | {duration}s`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5_000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

/**
 * Polls `probe` (how much of `total` is done) every `intervalMs` with a progress bar until it reaches `total`;
 * throws when `timeoutMs` passes first, so no benchmark phase can hang. Resolves with the elapsed ms.
 */
export async function waitWithProgress(
  label: string,
  total: number,
  probe: () => Promise<number> | number,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<number> {
  const started = performance.now();
  const bar = startBar(label, total);
  try {
    for (;;) {
      const done = await probe();
      bar.update(Math.min(done, total));
      if (done >= total) return performance.now() - started;
      if (performance.now() - started > options.timeoutMs) {
        throw new Error(`${label}: ${done} of ${total} after ${Math.round(options.timeoutMs / 1000)} s, giving up`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
    }
  } finally {
    bar.stop();
  }
}

/** Runs `work` over `total` items in chunks with a progress bar; each chunk call gets [first, end). */
export async function inChunks(
  label: string,
  total: number,
  chunk: number,
  work: (first: number, end: number) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  const bar = startBar(label, total);
  try {
    for (let first = 0; first < total; first += chunk) {
      const end = Math.min(total, first + chunk);
      await work(first, end);
      bar.update(end);
    }
  } finally {
    bar.stop();
  }
  return performance.now() - started;
}
