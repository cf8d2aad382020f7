import { readEnv } from '@journey/config';
import { testServers, uniqueName } from '@journey/embedded/testing';
import { connectMongo, type MongoStore } from '@journey/mongo';
import { connectRedis, type RedisClient } from '@journey/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStores } from '../src/index.js';

let mongo: MongoStore;
let redis: RedisClient;
beforeAll(async () => {
  mongo = await connectMongo(testServers().mongoUri, uniqueName('stores'));
  redis = await connectRedis(testServers().redis, 'command');
});
afterAll(async () => {
  await mongo.db.dropDatabase();
  await mongo.close();
  await redis.quit();
});

describe('createStores', () => {
  it('builds every store from the configuration: the key prefix, partitions and shards it names', async () => {
    const config = readEnv({
      REDIS_PREFIX: uniqueName('s').replace(/[^A-Za-z0-9_-]/g, '_'),
      EVENT_PARTITIONS: '4',
      DUE_SHARDS: '8',
      QUEUE_GROUPS: '2',
    });
    const stores = createStores(config, { mongo, redis });
    expect(stores.keys).toMatchObject({ prefix: config.REDIS_PREFIX, eventPartitions: 4, dueShards: 8 });
    expect([stores.keys.queues.drain.length, stores.keys.queues.dispatch.length]).toEqual([2, 2]);
    await stores.ensureIndexes();
    expect((await mongo.db.collection('journey_states').indexes()).map((index) => index.name)).toContain('userId');

    // The queues are made on first use, with their connection errors reported rather than thrown.
    expect(stores.dispatchQueue.queues.map((queue) => queue.name)).toEqual(stores.keys.queues.dispatch);
    expect(stores.dispatchQueue).toBe(stores.dispatchQueue);
    expect(stores.dispatchQueue.queues.map((queue) => queue.listenerCount('error'))).toEqual([1, 1]);
    await stores.close();
  });
});
