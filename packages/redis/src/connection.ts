import { Redis, type RedisOptions } from 'ioredis';

/**
 * `command` connections (API, scripts) fail fast so a request never hangs on a Redis outage;
 * `blocking` connections (BullMQ workers) wait forever, as BullMQ requires (maxRetriesPerRequest: null).
 */
export function createRedis(url: string, role: 'command' | 'blocking', options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: `journey-${role}`,
    maxRetriesPerRequest: role === 'blocking' ? null : 1,
    enableOfflineQueue: role === 'blocking',
    // Reconnect with a capped backoff; the health check reports the outage meanwhile.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...options,
  });
  // Connection errors surface through health checks and failed commands; without a listener ioredis prints them raw.
  redis.on('error', () => undefined);
  return redis;
}

/** A connection that is ready for commands: processes await this at start so the first request never races the connect. */
export async function connectRedis(url: string, role: 'command' | 'blocking', options: RedisOptions = {}): Promise<Redis> {
  const redis = createRedis(url, role, { ...options, lazyConnect: true });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(error as Error).message}`, { cause: error });
  }
  return redis;
}

/** Round-trip check for /health: resolves with the latency in ms, rejects on error or timeout. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return Math.round(performance.now() - started);
}

/** The server's version, as printed in test output and /health. */
export async function redisServerVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
}
