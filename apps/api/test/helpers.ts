import { readEnv, createLogger, redisEnv, type Config } from '@journey/config';
import { testServers, uniqueName } from '@journey/embedded/testing';
import { connectMongo, type MongoStore } from '@journey/mongo';
import { connectRedis, type RedisClient } from '@journey/redis';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/**
 * An API on the real servers of this run, with its own database and key prefix. `connectMongo` gives the app
 * another MongoDB connection to the database it is handed (the caller closes that one); the database is
 * dropped through a connection of its own either way.
 */
export async function testApp(
  overrides: { redis?: RedisClient; connectMongo?: (dbName: string) => Promise<MongoStore>; config?: Partial<Config> } = {},
): Promise<{ app: App; deps: AppDeps; close: () => Promise<void> }> {
  const { redis: target, mongoUri } = testServers();
  const env = readEnv({ ADMIN_API_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'silent', REDIS_PREFIX: uniqueName('t'), ...redisEnv(target) });
  const config = { ...env, MONGODB_URI: mongoUri, MONGODB_DB: uniqueName('api'), ...overrides.config };
  const direct = await connectMongo(mongoUri, config.MONGODB_DB);
  const mongo = overrides.connectMongo ? await overrides.connectMongo(config.MONGODB_DB) : direct;
  const redis = overrides.redis ?? (await connectRedis(target, 'command'));
  const deps: AppDeps = { config, logger: createLogger({ name: 'api-test', level: 'silent' }), mongo, redis };
  const app = await buildApp(deps);
  return {
    app,
    deps,
    close: async () => {
      await app.close();
      await direct.db.dropDatabase().catch(() => undefined);
      await direct.close();
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
