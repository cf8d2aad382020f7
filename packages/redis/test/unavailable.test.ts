import { rejectionOf, TcpProxy, testServers } from '@journey/embedded/testing';
import { describe, expect, it } from 'vitest';
import { connectRedis } from '../src/connection.js';
import { isRedisUnavailableError } from '../src/unavailable.js';
import { freshKeys } from './helpers.js';

describe('telling an unreachable Redis from a refused command', () => {
  it('a server that went away is unavailable; a command on the wrong type is the command', async () => {
    const proxy = await TcpProxy.forUrl(testServers().redisUrl);
    const redis = await connectRedis(proxy.rewrite(testServers().redisUrl), 'command');
    try {
      const key = `${freshKeys().prefix}:string`;
      await redis.set(key, 'x', 'EX', 60);
      expect(isRedisUnavailableError(await rejectionOf(() => redis.hget(key, 'field')))).toBe(false);
      await proxy.cut();
      expect(isRedisUnavailableError(await rejectionOf(() => redis.get(key)))).toBe(true);
    } finally {
      redis.disconnect();
      await proxy.close();
    }
    expect(isRedisUnavailableError(new TypeError('x'))).toBe(false);
  });
});
