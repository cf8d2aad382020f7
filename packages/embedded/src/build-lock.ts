import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const STALE_AFTER_MS = 10 * 60_000;

/** Serializes concurrent builds into one cache directory (two test runs starting at once) with an atomic mkdir lock. */
export async function withBuildLock<T>(dir: string, what: string, fn: () => T): Promise<T> {
  const lock = join(dir, '.build-lock');
  const deadline = Date.now() + STALE_AFTER_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the longest build is left over from a killed process.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_AFTER_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the ${what} build lock ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
