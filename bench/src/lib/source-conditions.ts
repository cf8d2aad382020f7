import { spawnSync } from 'node:child_process';

/**
 * The workspace packages export their TypeScript sources under the `@journey/source` condition and their (maybe
 * stale) build otherwise. `pnpm --filter @journey/bench exec tsx src/<name>.ts` runs without that condition, so the
 * entry scripts call this first: without the condition it runs the same script again with it (and tsx) and exits
 * with that run's code; with it, it resolves and the caller goes on. Entry scripts import the engine only
 * dynamically after this, so the build is never loaded.
 */
export function runOnSources(): void {
  if (import.meta.resolve('@journey/redis').includes('/src/')) return;
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which script to run again with the @journey/source condition');
  const result = spawnSync(
    process.execPath,
    ['--conditions=@journey/source', '--import', import.meta.resolve('tsx'), script, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}
