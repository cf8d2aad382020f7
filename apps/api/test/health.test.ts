import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedisCluster, type EmbeddedRedisCluster } from '@journey/embedded';
import { eventually } from '@journey/embedded/testing';
import { connectRedis, createRedis } from '@journey/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

describe('GET /health', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('is 200 when Redis and MongoDB answer', async () => {
    const t = await testApp();
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, mongodb: { status: 'ok' } } });
  });

  it('reports Redis as failed, without crashing, when Redis is unreachable', async () => {
    const deadPort = await freePort(); // nothing listens there
    const redis = createRedis({ url: `redis://127.0.0.1:${deadPort}` }, 'command', { retryStrategy: () => null, lazyConnect: true });
    const t = await testApp({ redis });
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.status).toBe('fail');
    expect(body.checks.redis.status).toBe('fail');
    expect(body.checks.redis.error).toEqual(expect.any(String));
    expect(body.checks.mongodb.status).toBe('ok');
    // The app keeps serving after the failure.
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(503);
  });
});

describe('GET /health on a Redis Cluster', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-health-'));
  let cluster: EmbeddedRedisCluster;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    cluster = await startRedisCluster({ log: { info: () => undefined, warn: () => undefined }, dataDir, persistent: false });
  });
  afterAll(async () => {
    for (const close of closers.splice(0)) await close();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reports the cluster's state, and fails once a master is gone", async () => {
    const t = await testApp({ redis: await connectRedis({ clusterNodes: cluster.nodes }, 'command') });
    closers.push(t.close);
    const healthy = await t.app.inject({ method: 'GET', url: '/health' });
    expect(healthy.statusCode).toBe(200);
    expect(healthy.json().checks.redis).toMatchObject({
      status: 'ok',
      cluster: { state: 'ok', masters: 3, slotsOk: 16384, knownNodes: 3 },
    });

    await cluster.stopNode(1);
    const failing = await eventually(
      async () => {
        const response = await t.app.inject({ method: 'GET', url: '/health' });
        return response.statusCode === 503 ? (response.json() as { checks: { redis: unknown } }) : undefined;
      },
      { what: '/health failing', timeoutMs: 15_000 },
    );
    expect(failing.checks.redis).toMatchObject({
      status: 'fail',
      error: expect.stringMatching(/cluster_state is fail|slots are not ok|Connection is closed/),
    });
    await cluster.startNode(1);
    await eventually(async () => (await t.app.inject({ method: 'GET', url: '/health' })).statusCode === 200, {
      what: '/health ok again',
      timeoutMs: 15_000,
    });
  }, 60_000);

  it('fails while a single-server connection reaches a node of the cluster, where every command is MOVED', async () => {
    const [node] = cluster.nodes;
    const t = await testApp({ redis: createRedis({ url: `redis://${node!.host}:${node!.port}` }, 'command') });
    closers.push(t.close);
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json().checks.redis).toMatchObject({
      status: 'fail',
      error: expect.stringMatching(/node of a Redis Cluster: set REDIS_CLUSTER_NODES/),
    });
  });
});

describe('HTTP edge basics', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const t = await testApp();
    close = t.close;
    const spec = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toMatch(/^3\./);
    expect(Object.keys(spec.json().paths)).toContain('/health');
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('answers unknown routes with a 404 in the contract error format', async () => {
    const t = await testApp();
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'Route GET /nope not found' });
  });
});
