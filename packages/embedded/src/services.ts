import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnv, redisTarget, type RedisTarget } from '@journey/config';
import { startMongo } from './mongo-server.js';
import { startRedisCluster } from './redis-cluster.js';
import { startRedis } from './redis-server.js';
import type { ServiceLog } from './service-log.js';

export interface Services {
  redisTarget: RedisTarget;
  mongoUri: string;
  /** e.g. "redis-server 7.0.15 (embedded)" or "external (REDIS_URL)". */
  redis: string;
  mongo: string;
  stop(): Promise<void>;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** The Redis the environment names: REDIS_CLUSTER_NODES first (as the engine reads it), else REDIS_URL. */
function givenRedis(env: NodeJS.ProcessEnv): ProvidedRedis | undefined {
  const { REDIS_URL, REDIS_CLUSTER_NODES } = env;
  if (!REDIS_URL && !REDIS_CLUSTER_NODES) return undefined;
  const target = redisTarget(readEnv({ REDIS_URL, REDIS_CLUSTER_NODES }));
  return {
    target,
    description:
      'url' in target
        ? `external Redis at ${redact(target.url)} (REDIS_URL)`
        : `external Redis Cluster at ${REDIS_CLUSTER_NODES} (REDIS_CLUSTER_NODES)`,
    stop: async () => undefined,
  };
}

/**
 * Uses REDIS_CLUSTER_NODES or REDIS_URL, and MONGODB_URI, when given; otherwise starts private servers on free
 * loopback ports: a single redis-server, or with `redisCluster` a 3-master Redis Cluster.
 * `dataDir` keeps their data (npm start); without it a temporary directory is used and removed on stop (tests).
 */
export async function provideServices(options: {
  log: ServiceLog;
  env?: NodeJS.ProcessEnv;
  dataDir?: string;
  redisCluster?: boolean;
}): Promise<Services> {
  const env = options.env ?? process.env;
  const persistent = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'journey-services-'));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
    if (!persistent) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const redis =
      givenRedis(env) ?? (await startEmbeddedRedis({ log: options.log, dataDir, persistent, cluster: options.redisCluster ?? false }));
    stops.push(redis.stop);
    let mongoUri = env.MONGODB_URI;
    let mongo = `external MongoDB at ${mongoUri ? redact(mongoUri) : ''} (MONGODB_URI)`;
    if (!mongoUri) {
      const embedded = await startMongo({ log: options.log, dataDir, persistent });
      stops.push(embedded.stop);
      mongoUri = embedded.uri;
      mongo = `${embedded.server} (embedded, ${embedded.uri})`;
    }
    return { redisTarget: redis.target, mongoUri, redis: redis.description, mongo, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Only a Redis Cluster (`npm test`'s cluster run): REDIS_CLUSTER_NODES when given, else an embedded one. */
export async function provideRedisCluster(options: { log: ServiceLog; env?: NodeJS.ProcessEnv }): Promise<ProvidedRedis> {
  const nodes = (options.env ?? process.env).REDIS_CLUSTER_NODES;
  const given = nodes ? givenRedis({ REDIS_CLUSTER_NODES: nodes }) : undefined;
  if (given) return given;
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-cluster-'));
  try {
    const embedded = await startEmbeddedRedis({ log: options.log, dataDir, persistent: false, cluster: true });
    return {
      ...embedded,
      async stop() {
        await embedded.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

interface ProvidedRedis {
  target: RedisTarget;
  /** e.g. "redis-server 7.0.15 (embedded, ...)" or "external Redis at ... (REDIS_URL)". */
  description: string;
  /** Stops what was started here (nothing for a given one). */
  stop(): Promise<void>;
}

async function startEmbeddedRedis(options: {
  log: ServiceLog;
  dataDir: string;
  persistent: boolean;
  cluster: boolean;
}): Promise<ProvidedRedis> {
  if (options.cluster) {
    const cluster = await startRedisCluster({
      log: options.log,
      dataDir: join(options.dataDir, 'redis-cluster'),
      persistent: options.persistent,
    });
    const seeds = cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',');
    return {
      target: { clusterNodes: cluster.nodes },
      description: `Redis Cluster of ${cluster.nodes.length} redis-server ${cluster.version} masters (embedded, ${seeds})`,
      stop: cluster.stop,
    };
  }
  const embedded = await startRedis({ log: options.log, dataDir: join(options.dataDir, 'redis'), persistent: options.persistent });
  return {
    target: { url: embedded.url },
    description: `redis-server ${embedded.version} (embedded, ${embedded.url})`,
    stop: embedded.stop,
  };
}
