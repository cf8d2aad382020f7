import { rejectionOf, TcpProxy, testServers } from '@journey/embedded/testing';
import { describe, expect, it } from 'vitest';
import { connectRedis, type RedisClient } from '../src/connection.js';
import { isRedisUnavailableError } from '../src/unavailable.js';
import { freshKeys } from './helpers.js';

/** A command connection through proxies in front of every node of the run's Redis, so a test can cut it off. */
async function throughProxies(): Promise<{ redis: RedisClient; cut(): Promise<void>; close(): Promise<void> }> {
  const target = testServers().redis;
  const nodes =
    'url' in target ? [new URL(target.url)].map((url) => ({ host: url.hostname, port: Number(url.port) })) : target.clusterNodes;
  const proxies = nodes.map((node) => new TcpProxy(node));
  await Promise.all(proxies.map((proxy) => proxy.restore()));
  // A cluster client learns the nodes' own addresses from CLUSTER SLOTS: the NAT map sends it through the proxies.
  const natMap = Object.fromEntries(
    nodes.map((node, index) => [`${node.host}:${node.port}`, { host: '127.0.0.1', port: proxies[index]!.port }]),
  );
  const redis = await connectRedis(
    'url' in target
      ? { url: proxies[0]!.rewrite(target.url) }
      : { clusterNodes: nodes.map((_, index) => ({ host: '127.0.0.1', port: proxies[index]!.port })) },
    'command',
    { natMap },
  );
  return {
    redis,
    async cut() {
      await Promise.all(proxies.map((proxy) => proxy.cut()));
    },
    async close() {
      redis.disconnect();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    },
  };
}

describe('telling an unreachable Redis from a refused command', () => {
  it('a server that went away is unavailable; a command on the wrong type is the command', async () => {
    const { redis, cut, close } = await throughProxies();
    try {
      const key = `${freshKeys().prefix}:string`;
      await redis.set(key, 'x', 'EX', 60);
      expect(isRedisUnavailableError(await rejectionOf(() => redis.hget(key, 'field')))).toBe(false);
      await cut();
      expect(isRedisUnavailableError(await rejectionOf(() => redis.get(key)))).toBe(true);
    } finally {
      await close();
    }
    expect(isRedisUnavailableError(new TypeError('x'))).toBe(false);
  });
});
