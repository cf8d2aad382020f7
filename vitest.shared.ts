import { defineConfig } from 'vitest/config';

/**
 * Every package's vitest config starts here: workspace packages are read from their TypeScript source
 * (the `@journey/source` export condition), and the real Redis and MongoDB are started once per run.
 */
export function journeyVitestConfig(options: { integration?: boolean } = {}) {
  return defineConfig({
    resolve: { conditions: ['@journey/source'] },
    ssr: { resolve: { conditions: ['@journey/source'] } },
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      globalSetup: options.integration ? [new URL('./packages/embedded/src/vitest-global-setup.ts', import.meta.url).pathname] : [],
      testTimeout: 20_000,
      hookTimeout: 60_000,
      pool: 'forks',
    },
  });
}
