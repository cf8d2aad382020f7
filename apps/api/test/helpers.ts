import { readEnv, createLogger, type Config } from '@journey/config';
import { testServers, uniqueName } from '@journey/embedded/testing';
import { connectMongo } from '@journey/mongo';
import { connectRedis } from '@journey/redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** An API on the real servers of this run, with its own database and key prefix. */
export async function testApp(overrides: { redis?: Redis; config?: Partial<Config> } = {}): Promise<{ app: App; deps: AppDeps; close: () => Promise<void> }> {
  const { redisUrl, mongoUri } = testServers();
  const env = readEnv({ ADMIN_API_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'silent', REDIS_PREFIX: uniqueName('t') });
  const config = { ...env, REDIS_URL: redisUrl, MONGODB_URI: mongoUri, MONGODB_DB: uniqueName('api'), ...overrides.config };
  const mongo = await connectMongo(mongoUri, config.MONGODB_DB);
  const redis = overrides.redis ?? (await connectRedis(redisUrl, 'command'));
  const deps: AppDeps = { config, logger: createLogger({ name: 'api-test', level: 'silent' }), mongo, redis };
  const app = await buildApp(deps);
  return {
    app,
    deps,
    close: async () => {
      await app.close();
      await mongo.db.dropDatabase().catch(() => undefined);
      await mongo.close();
      redis.disconnect();
    },
  };
}

/** One app shared by the tests of a describe block: built before them, closed after them. */
export function sharedTestApp(overrides: Parameters<typeof testApp>[0] = {}): { readonly app: App; readonly deps: AppDeps } {
  let built: Awaited<ReturnType<typeof testApp>> | undefined;
  beforeAll(async () => {
    built = await testApp(overrides);
  });
  afterAll(async () => built?.close());
  const current = () => {
    if (!built) throw new Error('sharedTestApp: used outside a test');
    return built;
  };
  return {
    get app() {
      return current().app;
    },
    get deps() {
      return current().deps;
    },
  };
}

let users = 0;
/** A user id no other test of this run uses. */
export function uniqueUserId(label = 'user'): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${users++}`;
}
