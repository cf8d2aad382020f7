import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisCluster, type EmbeddedRedisCluster } from '@journey/embedded';
import { eventually, onRedisCluster, rejectionOf, testServers } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis, connectRedis, createRedis } from '../src/connection.js';

const quiet = { info: () => undefined, warn: () => undefined };

// A cluster of its own (it stops a node): started in the single-server run only, which is enough to test the client.
describe.skipIf(onRedisCluster())('connecting to a Redis Cluster', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-connect-'));
  let cluster: EmbeddedRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ log: quiet, dataDir, persistent: false });
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('waits for a cluster that is failing at start, and is ready once it is ok again', async () => {
    await cluster.stopNode(2);
    const [first] = cluster.nodes;
    const node = createRedis({ url: `redis://${first!.host}:${first!.port}` }, 'command');
    try {
      // The others see the stopped node fail after the node timeout (2 s); then the cluster refuses its slots.
      await eventually(async () => /cluster_state:fail/.test(String(await node.cluster('INFO'))), {
        what: 'the cluster fails',
        timeoutMs: 15_000,
      });
    } finally {
      node.disconnect();
    }
    // A client's ready check finds the cluster failing: it must keep trying (ioredis's own connect() never settles then).
    const connecting = connectRedis({ clusterNodes: cluster.nodes }, 'command');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await cluster.startNode(2);
    const redis = await connecting;
    try {
      await redis.set('{connect-test}:key', 'x', 'EX', 60);
      expect(await redis.get('{connect-test}:key')).toBe('x');
      expect((await checkRedis(redis)).cluster).toEqual({ state: 'ok', masters: 3, slotsOk: 16384, knownNodes: 3 });
    } finally {
      redis.disconnect();
    }
  }, 60_000);

  it('refuses a single-server connection to a node of a cluster, whose every command would be MOVED', async () => {
    const [node] = cluster.nodes;
    const refused = await rejectionOf(() => connectRedis({ url: `redis://${node!.host}:${node!.port}` }, 'command'));
    expect(String(refused)).toMatch(/is a node of a Redis Cluster: set REDIS_CLUSTER_NODES/);
  });
});

describe('the health of the run’s Redis', () => {
  it('reports the cluster’s state for a cluster, nothing more for a single server', async () => {
    const redis = await connectRedis(testServers().redis, 'command');
    try {
      const health = await checkRedis(redis);
      expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      if (onRedisCluster()) expect(health.cluster).toMatchObject({ state: 'ok', slotsOk: 16384 });
      else expect(health.cluster).toBeNull();
    } finally {
      redis.disconnect();
    }
  });
});
