import { redisEnv } from '@journey/config';
import { freePort } from '@journey/embedded';
import { eventually, onRedisCluster, testServers, uniqueName, WebhookSink } from '@journey/embedded/testing';
import { connectMongo, type MongoStore } from '@journey/mongo';
import { connectRedis, createKeys, type Keys, type RedisClient } from '@journey/redis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFleet, type FleetWorker } from './app-fleet.js';
import { removeEngineKeys } from './engine-keys.js';

const USERS = 600;
const ADMIN_KEY = 'fleet-admin-key-0123456789';
const userId = (index: number) => `f${String(index).padStart(4, '0')}`;

/**
 * The engine as deployed on a Redis Cluster (REDIS_CLUSTER_NODES, the cluster run's own 3 masters): two API processes
 * take the events, three worker processes apply them and send. Every user gets each message of the journey exactly
 * once and in order, the same event posted to both APIs is taken once, and every worker does a share of the drains
 * and of the batches.
 */
describe.skipIf(!onRedisCluster())('the engine on a Redis Cluster: two API processes, three workers', () => {
  const servers = testServers();
  const prefix = uniqueName('fleet').replace(/[^A-Za-z0-9_-]/g, '_');
  const database = uniqueName('fleet');
  let redis: RedisClient;
  let mongo: MongoStore;
  let keys: Keys;
  let sink: WebhookSink;
  let workers: AppFleet;
  let apis: AppFleet;
  const apiUrls: string[] = [];

  beforeAll(async () => {
    redis = await connectRedis(servers.redis, 'command');
    mongo = await connectMongo(servers.mongoUri, database);
    keys = createKeys(prefix);
    sink = await new WebhookSink().listen();
    const settings = {
      ...redisEnv(servers.redis),
      MONGODB_URI: servers.mongoUri,
      MONGODB_DB: database,
      REDIS_PREFIX: prefix,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '4',
      SCHEDULER_TICK_MS: '100',
    };
    workers = new AppFleet(settings);
    apis = new AppFleet(settings, undefined, 'api');
    for (let index = 0; index < 3; index++) workers.start();
    for (let index = 0; index < 2; index++) {
      const port = await freePort();
      apis.start({ PORT: String(port) });
      apiUrls.push(`http://127.0.0.1:${port}`);
    }
    await eventually(() => [...workers.workers, ...apis.workers].every((each) => each.ready), {
      what: 'three workers and two APIs ready',
      timeoutMs: 60_000,
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([workers?.stopAll(10_000), apis?.stopAll(10_000)]);
    await Promise.all([workers?.dispose(), apis?.dispose()]);
    await sink?.close();
    if (redis) {
      await removeEngineKeys(redis, keys);
      redis.disconnect();
    }
    await mongo?.db.dropDatabase();
    await mongo?.close();
  });

  async function call(api: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${apiUrls[api]}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  it('sends every user each message once, in order, with every worker doing a share', async () => {
    const message = (text: string, next: string | null) => ({
      type: 'message',
      channel: 'webhook',
      messageType: 'onboarding',
      webhook: { url: sink.url },
      payload: { text },
      next,
    });
    const created = await call(0, 'POST', '/v1/journeys', {
      name: 'Fleet',
      entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'never' } },
      start: 'welcome',
      steps: {
        welcome: message('Welcome', 'wait'),
        wait: { type: 'delay', duration: 'PT1S', next: 'followup' },
        followup: message('Tips', null),
      },
      settings: { timezone: 'UTC' },
    });
    expect(created.status).toBe(201);
    const journeyId = (created.json as { id: string }).id;
    expect((await call(1, 'POST', `/v1/journeys/${journeyId}/publish`)).status).toBe(200);

    // Batches of 100 sign-ups, to one API and then the same ones to the other: each is taken once.
    const totals = { accepted: 0, duplicates: 0 };
    for (let first = 0; first < USERS; first += 100) {
      const events = Array.from({ length: 100 }, (_, offset) => ({
        id: `signup-${first + offset}`,
        userId: userId(first + offset),
        name: 'signed_up',
      }));
      const api = (first / 100) % 2;
      for (const target of [api, 1 - api]) {
        const posted = await call(target, 'POST', '/v1/events', { events });
        expect(posted.status).toBe(202);
        const { accepted, duplicates } = posted.json as { accepted: number; duplicates: number };
        totals.accepted += accepted;
        totals.duplicates += duplicates;
      }
    }
    expect(totals).toEqual({ accepted: USERS, duplicates: USERS });

    const states = mongo.db.collection('journey_states');
    await eventually(async () => (await states.countDocuments({ journeyId, status: 'completed' })) === USERS, {
      what: `${USERS} users through the journey`,
      timeoutMs: 120_000,
    });

    const received = new Map<string, string[]>();
    const keysSeen = new Set<string>();
    for (const request of sink.requests) {
      const body = JSON.parse(request.body) as { userId: string; stepId: string; messageId: string };
      expect(request.headers['idempotency-key']).toBe(body.messageId);
      keysSeen.add(body.messageId);
      received.set(body.userId, [...(received.get(body.userId) ?? []), body.stepId]);
    }
    expect(sink.requests).toHaveLength(2 * USERS);
    expect(keysSeen.size).toBe(2 * USERS);
    const wrong = Array.from({ length: USERS }, (_, index) => userId(index)).filter(
      (user) => received.get(user)?.join() !== 'welcome,followup',
    );
    expect(wrong).toEqual([]);

    // Which process ran each job (BullMQ's processedBy): every worker drained and dispatched.
    const ranBy = async (names: readonly string[]) => {
      const counts = new Map<string, number>();
      for (const name of names) {
        const queue = new Queue(name, { connection: redis });
        for (const job of await queue.getCompleted(0, -1))
          counts.set(job.processedBy ?? '?', (counts.get(job.processedBy ?? '?') ?? 0) + 1);
        await queue.close();
      }
      return counts;
    };
    const [drains, batches] = await Promise.all([ranBy(keys.queues.drain), ranBy(keys.queues.dispatch)]);
    const pidOf = (name: string) => Number(name.split(':').at(-1));
    const share = (counts: Map<string, number>) =>
      workers.workers.map((worker: FleetWorker) =>
        [...counts].filter(([name]) => pidOf(name) === worker.child.pid).reduce((sum, [, n]) => sum + n, 0),
      );
    const masters = 'clusterNodes' in servers.redis ? servers.redis.clusterNodes.length : 0;
    console.log(
      `[fleet] ${USERS} users, Redis Cluster of ${masters} masters: drains by worker ${share(drains).join('/')}, batches ${share(batches).join('/')}`,
    );
    expect(share(drains).every((count) => count > 0)).toBe(true);
    expect(share(batches).every((count) => count > 0)).toBe(true);
    expect(workers.problems.size, JSON.stringify([...workers.problems])).toBe(0);
  }, 180_000);
});
