import type { TestProject } from 'vitest/node';
import { provideServices } from './services.js';
import type { ServiceLog } from './service-log.js';
import './provided-context.js';

const quiet: ServiceLog = { info: () => undefined, warn: (message) => console.warn(`[services] ${message}`) };

/**
 * Once per test run: the servers `npm test` started (REDIS_URL or REDIS_CLUSTER_NODES, and MONGODB_URI), or private
 * ones when a package's tests run on their own (JOURNEY_TEST_REDIS_CLUSTER=1: a private Redis Cluster). Tests isolate
 * themselves by unique database names and key prefixes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await provideServices({ log: quiet, redisCluster: process.env.JOURNEY_TEST_REDIS_CLUSTER === '1' });
  project.provide('redis', services.redisTarget);
  project.provide('mongoUri', services.mongoUri);
  return () => services.stop();
}
