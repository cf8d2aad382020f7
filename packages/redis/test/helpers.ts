import { testServers, uniqueName } from '@journey/embedded/testing';
import { Cluster, type Redis } from 'ioredis';
import { connectRedis, type RedisClient } from '../src/connection.js';
import { createKeys, type Keys, type KeysOptions } from '../src/keys.js';
import { scanKeys } from '../src/scan.js';

/** Connections opened by a test file, closed by `closeAll` in its afterAll. */
const opened: RedisClient[] = [];

export async function connect(): Promise<RedisClient> {
  const redis = await connectRedis(testServers().redis, 'command');
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

/** The servers behind a connection: every master of a cluster, or the one server (for server-wide commands). */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Every key of this prefix, on every node of a cluster (SCAN: fine in tests, never in the engine). */
export async function keysOf(redis: RedisClient, keys: Keys): Promise<string[]> {
  const found = await Promise.all([`{${keys.prefix}:*`, `${keys.prefix}:*`].map((pattern) => scanKeys(redis, pattern)));
  return found.flat().sort();
}
