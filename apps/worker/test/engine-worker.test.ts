import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@journey/config';
import { startRedisCluster, type EmbeddedRedisCluster } from '@journey/embedded';
import { eventually, onRedisCluster, TcpProxy, testRedisUrl, uniqueName } from '@journey/embedded/testing';
import { connectRedis, createRedis, keySlot } from '@journey/redis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EngineWorker } from '../src/engine-worker.js';

/** A logger that keeps what it is told (level, message) instead of printing it. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = createLogger({
    name: 'engine-worker-test',
    level: 'debug',
    hooks: {
      logMethod(args, _method, level) {
        lines.push({ level, msg: String(args.at(-1)) });
      },
    },
  });
  return { logger, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Both need what only the single-server run has at hand (a cluster of its own, a proxy in front of the one server).
describe.skipIf(onRedisCluster())('the engine’s BullMQ workers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-engine-worker-'));
  let cluster: EmbeddedRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ log: { info: () => undefined, warn: () => undefined }, dataDir, persistent: false });
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('back off while every fetch of a job fails, instead of fetching again at once', async () => {
    // A single-server client on a cluster node that does not serve the queue's slot: every fetch is MOVED.
    const node = cluster.nodes[0]!;
    let name = '';
    for (let index = 0; keySlot(name) < 6_000; index++) name = `{${uniqueName('moved')}-${index}}`;
    const connection = createRedis({ url: `redis://${node.host}:${node.port}` }, 'blocking');
    const { logger, lines } = recordingLogger();
    const worker = new EngineWorker(name, async () => 1, { connection, logger, what: 'test' });
    try {
      await sleep(2_000);
      // 100 + 200 + 400 + 800 ms of waits fit in 2 s: about five fetches. A plain BullMQ worker made 16,378.
      const moved = lines.filter((line) => line.msg === 'test worker error');
      expect(moved.length).toBeGreaterThan(0);
      expect(moved.length).toBeLessThanOrEqual(8);
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });

  it('log what BullMQ reports as error events (a lock it cannot renew) instead of leaving them to stderr', async () => {
    const proxy = await TcpProxy.forUrl(testRedisUrl());
    const connection = await connectRedis({ url: proxy.rewrite(testRedisUrl()) }, 'blocking');
    const queueConnection = await connectRedis({ url: testRedisUrl() }, 'command');
    const name = `{${uniqueName('renew')}}`;
    const queue = new Queue(name, { connection: queueConnection });
    const { logger, lines } = recordingLogger();
    const stderr = vi.spyOn(console, 'error');
    let started = false;
    const worker = new EngineWorker(
      name,
      async () => {
        started = true;
        await sleep(3_000);
      },
      { connection, logger, what: 'test', lockDuration: 500, stalledInterval: 500 },
    );
    try {
      await queue.add('slow', {});
      await eventually(() => started, { what: 'the job started' });
      await proxy.cut();
      await eventually(() => lines.some((line) => /test worker/.test(line.msg)), { what: 'an error logged', timeoutMs: 5_000 });
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      await worker.close(true);
      connection.disconnect();
      await queue.obliterate({ force: true });
      await queue.close();
      queueConnection.disconnect();
      await proxy.close();
    }
  });
});
