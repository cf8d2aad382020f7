import { exampleJourney } from '@journey/core';
import { eventually, testRedisUrl, testServers } from '@journey/embedded/testing';
import type { MongoStore } from '@journey/mongo';
import { connectRedis } from '@journey/redis';
import type { LightMyRequestResponse } from 'fastify';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY, testApp, uniqueUserId } from './helpers.js';
import { bearer, call, mintKey } from './ingest-helpers.js';
import { cuttableProxy, type CuttableProxy } from './outage-proxy.js';

/** A MongoDB connection through `proxy`, quick to give up once it is cut (the app's own waits 5 s for a server). */
async function mongoThrough(proxy: CuttableProxy, dbName: string): Promise<MongoStore> {
  const client = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/?directConnection=true`, { serverSelectionTimeoutMS: 500 });
  await client.connect();
  return { client, db: client.db(dbName), close: () => client.close() };
}

/** The contract's answer to a request that was fine while a store it needs is down. */
function expectUnavailable(response: LightMyRequestResponse, store: RegExp, what: string): void {
  expect(response.statusCode, `${what}: ${response.body}`).toBe(503);
  expect(response.json(), `${what}: ${response.body}`).toEqual({ error: expect.stringMatching(store) });
  expect(Number(response.headers['retry-after']), what).toBeGreaterThan(0);
}

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`ops:${key}`).toString('base64')}` });

describe('answers 503 with Retry-After while a store is down', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('MongoDB down: stored keys, wrong keys, users and journeys', async () => {
    const proxy = await cuttableProxy(testServers().mongoUri);
    let store: MongoStore | undefined;
    const t = await testApp({ connectMongo: async (dbName) => (store = await mongoThrough(proxy, dbName)) });
    cleanups.push(async () => {
      await t.close();
      await store?.close();
    });
    const ingest = bearer(await mintKey(t.app, 'ingest'));
    const journey = (await call(t.app, 'POST', '/v1/journeys', { payload: exampleJourney })).json().id;
    const userId = uniqueUserId('outage');
    expect((await call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: { plan: 'pro' } } })).statusCode).toBe(200);

    await proxy.cut();

    const event = { userId, name: 'opened' };
    expectUnavailable(
      await call(t.app, 'POST', '/v1/events', { payload: event, headers: ingest }),
      /MongoDB/,
      'a stored key not in the cache',
    );
    expectUnavailable(
      await call(t.app, 'POST', '/v1/events', { payload: event, headers: bearer('je_ingest_not-a-key') }),
      /MongoDB/,
      'a key that cannot be checked',
    );
    const requests = [
      { method: 'GET', url: `/v1/users/${userId}` },
      { method: 'PUT', url: `/v1/users/${userId}`, payload: { attributes: { plan: 'free' } } },
      { method: 'PUT', url: `/v1/users/${userId}/subscriptions`, payload: { muted: ['promo'] } },
      { method: 'GET', url: '/v1/journeys' },
      { method: 'GET', url: `/v1/journeys/${journey}` },
      { method: 'POST', url: '/v1/journeys', payload: exampleJourney },
      { method: 'PUT', url: `/v1/journeys/${journey}`, payload: exampleJourney },
      { method: 'GET', url: `/v1/journeys/${journey}/stats` },
      { method: 'POST', url: '/v1/api-keys', payload: { scope: 'ops', name: 'during the outage' } },
    ] as const;
    for (const { method, url, ...rest } of requests) {
      expectUnavailable(
        await call(t.app, method, url, { payload: 'payload' in rest ? rest.payload : undefined }),
        /MongoDB/,
        `${method} ${url}`,
      );
    }
    // Events do not need MongoDB: the environment's admin key is checked without it, and Redis takes them.
    const accepted = await call(t.app, 'POST', '/v1/events', { payload: event, headers: bearer(TEST_ADMIN_KEY) });
    expect(accepted.statusCode, accepted.body).toBe(202);
    // Each refused request waits out the client's server selection (0.5 s).
  }, 60_000);

  it('Redis down: journey stats and the dashboard API', async () => {
    const proxy = await cuttableProxy(testRedisUrl());
    const redis = await connectRedis({ url: `redis://127.0.0.1:${proxy.port}` }, 'command');
    const t = await testApp({ redis });
    cleanups.push(t.close);
    const ops = await mintKey(t.app, 'ops');
    const journey = (await call(t.app, 'POST', '/v1/journeys', { payload: exampleJourney })).json().id;
    expect((await call(t.app, 'POST', `/v1/journeys/${journey}/publish`)).statusCode).toBe(200);
    expect((await call(t.app, 'GET', `/v1/journeys/${journey}/stats`)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/ops/dashboard/api/queues', headers: basic(ops) })).statusCode).toBe(200);

    await proxy.cut();
    // The connection notices the cut asynchronously; from then on every command fails at once.
    await eventually(() => redis.status !== 'ready', { what: 'the Redis connection to notice the cut' });

    expectUnavailable(await call(t.app, 'GET', `/v1/journeys/${journey}/stats`), /Redis/, 'stats');
    expectUnavailable(
      await t.app.inject({ method: 'GET', url: '/ops/dashboard/api/queues', headers: basic(ops) }),
      /Redis/,
      'dashboard queues',
    );
    expectUnavailable(await call(t.app, 'GET', '/v1/ops/queues'), /Redis/, 'ops view');
    expectUnavailable(await call(t.app, 'POST', '/v1/events', { payload: { userId: 'u', name: 'x' } }), /Redis/, 'events');
    // Mutes live with the user in MongoDB: they change while Redis is down.
    expect((await call(t.app, 'PUT', '/v1/users/u/subscriptions', { payload: { muted: ['promo'] } })).statusCode).toBe(200);
  });
});
