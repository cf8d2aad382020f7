import { testServers, uniqueName } from '@journey/embedded/testing';
import type { Redis } from 'ioredis';
import { connectRedis } from '../src/connection.js';
import { createKeys, type Keys, type KeysOptions } from '../src/keys.js';

/** Connections opened by a test file, closed by `closeAll` in its afterAll. */
const opened: Redis[] = [];

export async function connect(): Promise<Redis> {
  const redis = await connectRedis(testServers().redisUrl, 'command');
  opened.push(redis);
  return redis;
}

export async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((redis) => redis.quit()));
}

/** Keys under a prefix no other test uses, so tests share one Redis without resets. */
export function freshKeys(options?: KeysOptions): Keys {
  return createKeys(uniqueName('t').replace(/[^A-Za-z0-9_-]/g, '_'), options);
}

/** Every key of this prefix (SCAN: fine in tests, never in the engine). */
export async function keysOf(redis: Redis, keys: Keys): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of [`{${keys.prefix}:*`, `${keys.prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found.sort();
}
