import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Built and downloaded tools live outside the repository so a fresh clone reuses them and reruns start fast.
 * JOURNEY_CACHE_DIR overrides; otherwise the XDG cache directory.
 */
export function cacheDir(...parts: string[]): string {
  const root = process.env.JOURNEY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'journey-engine');
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
