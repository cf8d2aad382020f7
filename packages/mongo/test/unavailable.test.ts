import { rejectionOf, TcpProxy, testServers, uniqueName } from '@journey/embedded/testing';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isMongoUnavailableError } from '../src/index.js';

describe('telling an unreachable MongoDB from a refused request', () => {
  it('a server that went away is unavailable; a duplicate key is the request', async () => {
    const proxy = await TcpProxy.forUrl(testServers().mongoUri);
    const client = new MongoClient(proxy.rewrite(testServers().mongoUri), { serverSelectionTimeoutMS: 500 });
    try {
      const docs = client.db(uniqueName('unavailable')).collection<{ _id: string }>('docs');
      await docs.insertOne({ _id: 'a' });
      expect(isMongoUnavailableError(await rejectionOf(() => docs.insertOne({ _id: 'a' })))).toBe(false);
      await proxy.cut();
      expect(isMongoUnavailableError(await rejectionOf(() => docs.findOne({ _id: 'a' })))).toBe(true);
    } finally {
      await client.close();
      await proxy.close();
    }
    expect(isMongoUnavailableError(new TypeError('x'))).toBe(false);
  });
});
