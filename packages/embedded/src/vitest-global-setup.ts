import type { TestProject } from 'vitest/node';
import { provideServices } from './services.js';
import type { ServiceLog } from './service-log.js';
import './provided-context.js';

const quiet: ServiceLog = { info: () => undefined, warn: (message) => console.warn(`[services] ${message}`) };

/**
 * Once per test run: the servers `npm test` started (REDIS_URL / MONGODB_URI), or private ones when a
 * package's tests run on their own. Tests isolate themselves by unique database names and key prefixes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await provideServices({ log: quiet });
  project.provide('redisUrl', services.redisUrl);
  project.provide('mongoUri', services.mongoUri);
  return () => services.stop();
}
