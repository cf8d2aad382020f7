import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { IngestRecord } from '@journey/core';
import { testRedisUrl, uniqueName } from '@journey/embedded/testing';
import { connectRedis, createDrainQueue, createEventsStream, createKeys, type RedisClient } from '@journey/redis';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { TEST_ADMIN_KEY } from './helpers.js';

export const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** An HTTP call as an admin unless `headers` says otherwise. */
export function call(
  app: App,
  method: InjectOptions['method'],
  url: string,
  options: { payload?: unknown; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { ...admin, ...options.headers },
    ...(options.payload === undefined ? {} : { payload: options.payload as InjectOptions['payload'] }),
  });
}

export async function mintKey(app: App, scope: 'admin' | 'ingest' | 'ops'): Promise<string> {
  const response = await call(app, 'POST', '/v1/api-keys', { payload: { scope, name: `${scope} test key` } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().key;
}

/** What the app made durable for one user: the records of the user's partition, in stream order. */
export async function recordsOf(deps: AppDeps, userId: string): Promise<IngestRecord[]> {
  const keys = createKeys(deps.config.REDIS_PREFIX);
  const entries = await createEventsStream(deps.redis, keys).read(keys.eventPartitionOf(userId), { count: 100_000 });
  // Every entry the API wrote must read back through core's schema.
  expect(entries.filter((entry) => !entry.ok)).toEqual([]);
  return entries.flatMap((entry) => (entry.ok && entry.record.userId === userId ? [entry.record] : []));
}

/** Partitions with a drain job waiting, as the worker would find them. */
export async function waitingDrains(deps: AppDeps): Promise<number[]> {
  const drains = createDrainQueue(deps.redis, createKeys(deps.config.REDIS_PREFIX));
  try {
    const jobs = (await Promise.all(drains.queues.map((queue) => queue.getJobs(['waiting', 'prioritized', 'delayed'])))).flat();
    return [...new Set(jobs.map((job) => job.data.partition))].sort((a, b) => a - b);
  } finally {
    await drains.close();
  }
}

export function partitionOf(deps: AppDeps, userId: string): number {
  return createKeys(deps.config.REDIS_PREFIX).eventPartitionOf(userId);
}

/** A TCP port nothing listens on: a Redis connection to it never becomes ready. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/**
 * A ready command connection as a Redis ACL user with `rules` (e.g. `-@scripting`): Redis refuses some commands
 * while the connection stays up, so a failure happens in the middle of a request, as in a real outage. The user is
 * unique to the test and deleted by `close`.
 */
export async function restrictedRedis(
  adminRedis: RedisClient,
  rules: string[],
): Promise<{ redis: RedisClient; close: () => Promise<void> }> {
  const user = uniqueName('acl');
  const password = randomBytes(16).toString('hex');
  await adminRedis.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...rules);
  const url = new URL(testRedisUrl());
  url.username = user;
  url.password = password;
  const redis = await connectRedis({ url: url.toString() }, 'command');
  return {
    redis,
    close: async () => {
      redis.disconnect();
      await adminRedis.call('ACL', 'DELUSER', user);
    },
  };
}
