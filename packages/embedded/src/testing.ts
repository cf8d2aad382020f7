import { randomBytes } from 'node:crypto';
import type { RedisTarget } from '@journey/config';
import { inject } from 'vitest';
import './provided-context.js';

/**
 * The real servers of this test run (see vitest-global-setup.ts): the Redis is a single server or, in `npm test`'s
 * cluster run, a Redis Cluster.
 */
export function testServers(): { redis: RedisTarget; mongoUri: string } {
  return { redis: inject('redis'), mongoUri: inject('mongoUri') };
}

/** The URL of this run's single Redis server, for tests that reach it through a proxy or as another user. */
export function testRedisUrl(): string {
  const redis = inject('redis');
  if (!('url' in redis)) throw new Error('this test needs a single Redis server; the cluster run has none');
  return redis.url;
}

/** Whether this run's Redis is a cluster (a test of something a cluster does differently says so). */
export function onRedisCluster(): boolean {
  return 'clusterNodes' in inject('redis');
}

/** A name no other test (or parallel test file) uses: database names, key prefixes, queue names. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after the timeout. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what ?? 'condition'} not met within ${options.timeoutMs ?? 10_000} ms${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export { TcpProxy } from './tcp-proxy.js';
export { ensureChromium } from './chromium.js';

/** The error `action` fails with; throws when it does not fail. */
export async function rejectionOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('the action did not fail');
}
export { WebhookSink } from './webhook-sink.js';
export type { SinkReply, SinkRequest, SinkResponse } from './webhook-sink.js';
