import { groupBy } from '@journey/core';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connection.js';
import { keySlot } from './key-slot.js';

/**
 * Every key matching a SCAN pattern, on a single server or on every master of a cluster (a SCAN only walks the keys of
 * the node it reaches). For tests, benchmarks and cleanups of a whole prefix: the engine itself never scans.
 */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes keys with one UNLINK per slot: a cluster refuses a command whose keys live in different slots. */
export async function unlinkKeys(redis: RedisClient, keys: readonly string[]): Promise<number> {
  const removed = await Promise.all([...groupBy(keys, keySlot).values()].map((slotKeys) => redis.unlink(...slotKeys)));
  return removed.reduce((sum, count) => sum + count, 0);
}

/** Deletes every key matching the pattern (see scanKeys); returns how many. */
export async function deleteMatching(redis: RedisClient, pattern: string): Promise<number> {
  return unlinkKeys(redis, await scanKeys(redis, pattern));
}
