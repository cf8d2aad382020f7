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
      expect(isMongoUnavailableError(await rejectionOf(() => docs.insertMany([{ _id: 'a' }], { ordered: false })))).toBe(false);
      // A bulk write in flight when the server goes away, and one sent while it is away: the driver wraps both.
      const inFlight = docs.insertMany([{ _id: 'b' }, { _id: 'c' }], { ordered: false });
      void proxy.cut();
      expect(isMongoUnavailableError(await rejectionOf(() => inFlight))).toBe(true);
      expect(isMongoUnavailableError(await rejectionOf(() => docs.findOne({ _id: 'a' })))).toBe(true);
      expect(isMongoUnavailableError(await rejectionOf(() => docs.insertMany([{ _id: 'd' }], { ordered: false })))).toBe(true);
      expect(
        isMongoUnavailableError(await rejectionOf(() => docs.bulkWrite([{ deleteOne: { filter: { _id: 'a' } } }], { ordered: false }))),
      ).toBe(true);
    } finally {
      await client.close();
      await proxy.close();
    }
    expect(isMongoUnavailableError(new TypeError('x'))).toBe(false);
  });
});
