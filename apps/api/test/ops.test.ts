import { freePort } from '@journey/embedded';
import { createDueSchedule, createKeys, createOpsActivity, createRedis } from '@journey/redis';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY, testApp } from './helpers.js';

const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

describe('the operators\u2019 view', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function opsKey(t: Awaited<ReturnType<typeof testApp>>, scope = 'ops'): Promise<string> {
    const minted = await t.app.inject({ method: 'POST', url: '/v1/api-keys', headers: admin, payload: { scope, name: `${scope} key` } });
    expect(minted.statusCode).toBe(201);
    return minted.json().key;
  }

  it('reports queues, batch buffers with their lag, rates and failures from what the engine wrote to Redis', async () => {
    const t = await testApp();
    close = t.close;
    const keys = createKeys(t.deps.config.REDIS_PREFIX);
    const nowMs = Date.now();
    const nowSecond = Math.floor(nowMs / 1000);
    // Three users waiting, the oldest due 30 s ago; one batch carved from a second due set.
    const due = createDueSchedule(t.deps.redis, keys);
    const branch = { journeyId: 'jrn_ops', version: 1, stepId: 'welcome' };
    const member = (userId: string) => ({ userId, entryId: `e-${userId}`, expectedToken: '', ownToken: 't0' });
    await due.schedule(branch, nowSecond - 30, [member('ada'), member('bo')]);
    await due.schedule(branch, nowSecond + 60, [member('cy')]);
    await due.schedule({ ...branch, stepId: 'later' }, nowSecond - 5, [member('di')]);
    const carved = await due.carve(
      { shard: keys.dueShardOf('di'), branch: { ...branch, stepId: 'later' }, dueSecond: nowSecond - 5 },
      { nowMs },
    );
    expect(carved?.size).toBe(1);
    const dispatch = new Queue(keys.dispatchQueueOf(carved!.batch.shard), { connection: t.deps.redis });
    await dispatch.add('batch', { batchKey: carved!.key }, { jobId: 'batch-x', delay: 60_000 });
    await dispatch.close();
    const activity = createOpsActivity(t.deps.redis, keys);
    await activity.record({ dispatched: 600, sent: 594, failed: 6 }, nowMs - 2_000);
    await activity.recordFailure({
      at: nowMs - 1_000,
      source: 'send',
      reason: 'http_4xx after 1 attempt(s)',
      journeyId: 'jrn_ops',
      stepId: 'welcome',
      userId: 'ada',
    });
    const accepted = await t.app.inject({ method: 'POST', url: '/v1/events', headers: admin, payload: { userId: 'ada', name: 'opened' } });
    expect(accepted.statusCode).toBe(202);

    const response = await t.app.inject({ method: 'GET', url: '/v1/ops/queues', headers: { authorization: `Bearer ${await opsKey(t)}` } });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.queues.map((queue: { name: string }) => queue.name)).toEqual(['drain', 'dispatch', 'schedule']);
    // Each kind's counts are summed over its queue groups.
    expect(body.queues.map((queue: { queues: string[] }) => queue.queues)).toEqual([
      keys.queues.drain,
      keys.queues.dispatch,
      [keys.queues.schedule],
    ]);
    expect(body.queues.find((queue: { name: string }) => queue.name === 'dispatch').counts).toMatchObject({ delayed: 1, failed: 0 });
    // A due set per shard and second: ada's and bo's shards at -30 s, cy's at +60 s.
    const dueSets = new Set([keys.dueShardOf('ada'), keys.dueShardOf('bo')]).size + 1;
    expect(body.batches).toMatchObject({
      shards: keys.dueShards,
      dueSets,
      usersWaiting: 3,
      oldestDueAt: new Date((nowSecond - 30) * 1000).toISOString(),
      unfinishedBatches: 1,
      oldestBatchCarvedAt: new Date(nowMs).toISOString(),
    });
    expect(body.batches.lagSeconds).toBeGreaterThanOrEqual(29);
    expect(body.batches.lagSeconds).toBeLessThan(60);
    expect(body.events.pending).toBe(1); // no worker runs in this test
    expect(body.rates).toEqual({
      windowSeconds: 60,
      totals: { dispatched: 600, sent: 594, failed: 6, skipped: 0 },
      perSecond: { dispatched: 10, sent: 9.9, failed: 0.1, skipped: 0 },
    });
    expect(body.failures).toEqual([
      {
        at: new Date(nowMs - 1_000).toISOString(),
        source: 'send',
        reason: 'http_4xx after 1 attempt(s)',
        journeyId: 'jrn_ops',
        stepId: 'welcome',
        userId: 'ada',
      },
    ]);

    // The same figures in Prometheus text, next to the HTTP latencies and the ingest counters.
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    const text = metrics.body;
    expect(text).toContain('journey_users_waiting 3');
    expect(text).toContain(`journey_due_sets ${dueSets}`);
    expect(text).toContain('journey_unfinished_batches 1');
    expect(text).toContain('journey_queue_jobs{queue="dispatch",state="delayed"} 1');
    expect(text).toContain('journey_dispatch_per_second{counter="sent"} 9.9');
    expect(text).toContain('journey_events_ingested_total{outcome="accepted"} 1');
    expect(text).toContain('journey_ops_snapshot_up 1');
    expect(text).toMatch(/journey_http_request_duration_seconds_count\{method="POST",route="\/v1\/events",status_code="202"\} 1/);
  });

  it('needs an ops or admin key', async () => {
    const t = await testApp();
    close = t.close;
    expect((await t.app.inject({ method: 'GET', url: '/v1/ops/queues' })).statusCode).toBe(401);
    const ingest = await opsKey(t, 'ingest');
    const refused = await t.app.inject({ method: 'GET', url: '/v1/ops/queues', headers: { authorization: `Bearer ${ingest}` } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatch(/scope ops or admin/);
    expect((await t.app.inject({ method: 'GET', url: '/v1/ops/queues', headers: admin })).statusCode).toBe(200);
  });

  it('serves the queue dashboard to a browser with the ops key as Basic password, and asks for it otherwise', async () => {
    const t = await testApp();
    close = t.close;
    const key = await opsKey(t);
    const challenged = await t.app.inject({ method: 'GET', url: '/ops/dashboard' });
    expect(challenged.statusCode).toBe(401);
    expect(challenged.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const wrong = await t.app.inject({
      method: 'GET',
      url: '/ops/dashboard',
      headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` },
    });
    expect(wrong.statusCode).toBe(401);

    const basic = { authorization: `Basic ${Buffer.from(`ops:${key}`).toString('base64')}` };
    const page = await t.app.inject({ method: 'GET', url: '/ops/dashboard', headers: basic });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Journey engine');
    const queues = await t.app.inject({ method: 'GET', url: '/ops/dashboard/api/queues', headers: basic });
    expect(queues.statusCode).toBe(200);
    const names = (queues.json().queues as Array<{ name: string }>).map((queue) => queue.name);
    const keys = createKeys(t.deps.config.REDIS_PREFIX);
    expect(names.sort()).toEqual([...keys.queues.dispatch, ...keys.queues.drain, keys.queues.schedule].sort());
    // Basic is for the browser pages only: the JSON API keeps to bearer keys.
    expect((await t.app.inject({ method: 'GET', url: '/v1/ops/queues', headers: basic })).statusCode).toBe(401);
  });

  it('lets an ops key read the dashboard but not change a queue: only an admin key acts', async () => {
    const t = await testApp();
    close = t.close;
    const keys = createKeys(t.deps.config.REDIS_PREFIX);
    const queue = new Queue(keys.queues.dispatch[0]!, { connection: t.deps.redis });
    try {
      await queue.add('batch', { batchKey: 'x' }, { jobId: 'kept', delay: 60_000 });
      const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`someone:${key}`).toString('base64')}` });
      const ops = basic(await opsKey(t));
      const api = `/ops/dashboard/api/queues/${encodeURIComponent(keys.queues.dispatch[0]!)}`;
      const writes: Array<{ method: 'PUT' | 'POST' | 'PATCH'; url: string; payload?: Record<string, unknown> }> = [
        { method: 'PUT', url: `${api}/pause` },
        { method: 'PUT', url: '/ops/dashboard/api/queues/pause' },
        { method: 'PUT', url: `${api}/empty` },
        { method: 'PUT', url: `${api}/obliterate` },
        { method: 'PUT', url: `${api}/clean/delayed` },
        { method: 'POST', url: `${api}/add`, payload: { name: 'injected', data: {} } },
        { method: 'PUT', url: `${api}/kept/promote` },
        { method: 'PUT', url: `${api}/kept/clean` },
        { method: 'PATCH', url: `${api}/kept/update-data`, payload: { jobData: { batchKey: 'changed' } } },
      ];
      for (const { method, url, payload } of writes) {
        const refused = await t.app.inject({ method, url, headers: ops, ...(payload === undefined ? {} : { payload }) });
        expect(refused.statusCode, `${method} ${url}: ${refused.body}`).toBe(403);
        expect(refused.json()).toEqual({ error: expect.stringContaining('scope admin') });
      }
      expect(await queue.isPaused()).toBe(false);
      expect(await queue.getJobCounts('delayed', 'waiting')).toEqual({ delayed: 1, waiting: 0 });
      expect((await queue.getJob('kept'))?.data).toEqual({ batchKey: 'x' });
      // Reading stays open to ops keys, and the board shows them every queue read-only (no action buttons).
      expect((await t.app.inject({ method: 'GET', url: `${api}/kept`, headers: ops })).statusCode).toBe(200);
      const modes = async (headers: Record<string, string>) => {
        const listed = await t.app.inject({ method: 'GET', url: '/ops/dashboard/api/queues', headers });
        expect(listed.statusCode, listed.body).toBe(200);
        return (listed.json().queues as Array<{ readOnlyMode: boolean; allowRetries: boolean }>).map(({ readOnlyMode, allowRetries }) => ({
          readOnlyMode,
          allowRetries,
        }));
      };
      const all = keys.queues.drain.length + keys.queues.dispatch.length + 1;
      expect(await modes(ops)).toEqual(Array(all).fill({ readOnlyMode: true, allowRetries: false }));
      expect(await modes(basic(TEST_ADMIN_KEY))).toEqual(Array(all).fill({ readOnlyMode: false, allowRetries: true }));

      const paused = await t.app.inject({ method: 'PUT', url: `${api}/pause`, headers: basic(TEST_ADMIN_KEY) });
      expect(paused.statusCode, paused.body).toBe(200);
      expect(await queue.isPaused()).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('documents the ops view and /metrics in OpenAPI, and leaves the dashboard\u2019s own routes out', async () => {
    const t = await testApp();
    close = t.close;
    const spec = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(spec.paths['/v1/ops/queues'].get.tags).toEqual(['ops']);
    expect(spec.paths['/v1/ops/queues'].get.responses['200'].content['application/json'].schema).toBeDefined();
    expect(spec.paths['/metrics'].get.security).toEqual([]);
    expect(Object.keys(spec.paths).filter((path) => path.startsWith('/ops/dashboard'))).toEqual([]);
  });

  it('answers 503 for the ops view and still serves /metrics when Redis is unreachable', async () => {
    const deadPort = await freePort();
    const redis = createRedis({ url: `redis://127.0.0.1:${deadPort}` }, 'command', { retryStrategy: () => null, lazyConnect: true });
    const t = await testApp({ redis });
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/v1/ops/queues', headers: admin });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toMatch(/Redis is unavailable/);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('journey_ops_snapshot_up 0');
  });
});
