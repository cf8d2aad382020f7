import type { RedisTarget } from '@journey/config';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * A connection of the engine: to one server, or a cluster client that sends each command to the node serving its
 * key's slot (every multi-key script and pipeline of the engine stays within one slot, see keys.ts).
 */
export type RedisClient = Redis | Cluster;

/**
 * `command` connections (API, scripts) fail fast so a request never hangs on a Redis outage;
 * `blocking` connections (BullMQ workers) wait forever, as BullMQ requires (maxRetriesPerRequest: null).
 */
export type RedisRole = 'command' | 'blocking';

export type ConnectionOptions = Pick<RedisOptions, 'lazyConnect' | 'enableAutoPipelining' | 'connectionName' | 'retryStrategy'> &
  /** A cluster's node addresses as this client must dial them (nodes behind NAT or a proxy). */
  Pick<ClusterOptions, 'natMap'>;

/** Reconnect with a capped backoff; the health check reports the outage meanwhile. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

function nodeOptions(role: RedisRole, options: ConnectionOptions): RedisOptions {
  return {
    connectionName: options.connectionName ?? `journey-${role}`,
    maxRetriesPerRequest: role === 'blocking' ? null : 1,
    enableOfflineQueue: role === 'blocking',
    retryStrategy: options.retryStrategy ?? reconnectDelay,
  };
}

/** Connection errors surface through health checks and failed commands; without a listener ioredis prints them raw. */
function quiet<C extends RedisClient>(client: C): C {
  client.on('error', () => undefined);
  if (client instanceof Cluster) client.on('node error', () => undefined);
  return client;
}

export function createRedis(target: RedisTarget, role: RedisRole, options: ConnectionOptions = {}): RedisClient {
  if ('url' in target) {
    return quiet(
      new Redis(target.url, {
        ...nodeOptions(role, options),
        lazyConnect: options.lazyConnect ?? false,
        enableAutoPipelining: options.enableAutoPipelining ?? false,
      }),
    );
  }
  return quiet(
    new Cluster([...target.clusterNodes], {
      redisOptions: nodeOptions(role, options),
      clusterRetryStrategy: options.retryStrategy ?? reconnectDelay,
      // The cluster's own queue for commands sent while it finds its nodes: as the role's offline queue.
      enableOfflineQueue: role === 'blocking',
      lazyConnect: options.lazyConnect ?? false,
      enableAutoPipelining: options.enableAutoPipelining ?? false,
      natMap: options.natMap,
    }),
  );
}

/** Where a target is, for messages (a URL's credentials hidden). */
export function describeRedisTarget(target: RedisTarget): string {
  if ('url' in target) return `Redis at ${target.url.replace(/\/\/[^@/]*@/, '//***@')}`;
  return `Redis Cluster at ${target.clusterNodes.map(({ host, port }) => `${host}:${port}`).join(',')}`;
}

/** How long a process waits at start for its Redis to be ready (it may be restarting, or a cluster failing over). */
const READY_TIMEOUT_MS = 30_000;

/**
 * A connection that is ready for commands: processes await this at start so the first request never races the connect.
 * A Redis that is down or not ready yet is tried again (the retry strategy) for up to 30 s. A single-server connection
 * to a node of a cluster is refused here: every command of it would fail with MOVED.
 */
export async function connectRedis(target: RedisTarget, role: RedisRole, options: ConnectionOptions = {}): Promise<RedisClient> {
  const redis = createRedis(target, role, { ...options, lazyConnect: true });
  try {
    await untilReady(redis, READY_TIMEOUT_MS);
    if (redis instanceof Redis && (await clusterEnabled(redis))) {
      throw new Error('it is a node of a Redis Cluster: set REDIS_CLUSTER_NODES to its nodes instead of REDIS_URL');
    }
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot connect to ${describeRedisTarget(target)}: ${(error as Error).message}`, { cause: error });
  }
  return redis;
}

/**
 * Connects and resolves on the first 'ready'. Not on `connect()`'s promise: a cluster client whose first ready check
 * finds `cluster_state:fail` (nodes just restarted) reconnects on its own and never settles that promise.
 */
function untilReady(redis: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => (lastError = error);
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`not ready within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`));
    }, timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    // A failed first attempt is retried by the retry strategy; 'ready' (or the timeout) ends the wait.
    redis.connect().catch((error: unknown) => (lastError = error instanceof Error ? error : new Error(String(error))));
  });
}

/**
 * Another connection to the same Redis, with its own options: ioredis's `duplicate` takes different arguments for a
 * cluster, and the copy does not inherit the original's error listener.
 */
export function duplicateRedis(
  redis: RedisClient,
  options: Pick<ConnectionOptions, 'enableAutoPipelining' | 'connectionName'>,
): RedisClient {
  if (redis instanceof Cluster) {
    return quiet(
      redis.duplicate(undefined, {
        enableAutoPipelining: options.enableAutoPipelining ?? redis.options.enableAutoPipelining,
        redisOptions: {
          ...redis.options.redisOptions,
          connectionName: options.connectionName ?? redis.options.redisOptions?.connectionName,
        },
      }),
    );
  }
  return quiet(redis.duplicate(options));
}

async function clusterEnabled(redis: Redis): Promise<boolean> {
  return /^cluster_enabled:1/m.test(await redis.info('cluster'));
}

export interface RedisHealth {
  latencyMs: number;
  /** A cluster's own view (CLUSTER INFO of every master the client knows); null for a single server. */
  cluster: { state: string; masters: number; slotsOk: number; knownNodes: number } | null;
}

/**
 * Round-trip check for /health: resolves with the latency (and a cluster's state), rejects on error or timeout.
 * A cluster is healthy only when every master it knows says `cluster_state:ok` with all 16384 slots ok: a cluster
 * missing slots fails every command that lands on them, whatever a PING says.
 */
export async function checkRedis(redis: RedisClient, timeoutMs = 1_000): Promise<RedisHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const cluster = await Promise.race([probe(redis), timeout]);
    return { latencyMs: Math.round(performance.now() - started), cluster };
  } finally {
    clearTimeout(timer);
  }
}

async function probe(redis: RedisClient): Promise<RedisHealth['cluster']> {
  if (redis instanceof Redis) {
    await redis.ping();
    if (await clusterEnabled(redis))
      throw new Error('the server is a node of a Redis Cluster: set REDIS_CLUSTER_NODES instead of REDIS_URL');
    return null;
  }
  const masters = redis.nodes('master');
  if (masters.length === 0) throw new Error('the cluster client knows no master node');
  const infos = await Promise.all(
    masters.map(async (node) => ({ node: `${node.options.host}:${node.options.port}`, info: String(await node.cluster('INFO')) })),
  );
  const field = (info: string, name: string) => new RegExp(`^${name}:([^\\r\\n]*)`, 'm').exec(info)?.[1];
  const failing = infos.find(({ info }) => field(info, 'cluster_state') !== 'ok');
  if (failing) throw new Error(`cluster_state is ${field(failing.info, 'cluster_state') ?? 'unknown'} on ${failing.node}`);
  // A master that just went away still leaves the others `ok` for the node timeout, with its slots no longer ok.
  const missing = infos.find(({ info }) => Number(field(info, 'cluster_slots_ok')) !== 16_384);
  if (missing) throw new Error(`${16_384 - Number(field(missing.info, 'cluster_slots_ok'))} slots are not ok on ${missing.node}`);
  const first = infos[0]!.info;
  return {
    state: 'ok',
    masters: masters.length,
    slotsOk: Number(field(first, 'cluster_slots_ok')),
    knownNodes: Number(field(first, 'cluster_known_nodes')),
  };
}

/** Round-trip check: resolves with the latency in ms, rejects on error or timeout. */
export async function pingRedis(redis: RedisClient, timeoutMs = 1_000): Promise<number> {
  return (await checkRedis(redis, timeoutMs)).latencyMs;
}

/** The server's version, as printed in test output and /health. */
export async function redisServerVersion(redis: RedisClient): Promise<string> {
  const info = await redis.info('server');
  return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
}
