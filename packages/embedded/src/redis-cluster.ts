import { dirname, join } from 'node:path';
import type { RedisNode } from '@journey/config';
import { SYSTEM_DIRS } from './apt.js';
import { freePort, run, tcpAsk, waitUntil, which } from './process.js';
import { findRedisServer, installRedisServer, startRedis, type EmbeddedRedis } from './redis-server.js';
import type { ServiceLog } from './service-log.js';

export interface EmbeddedRedisCluster {
  /** Its master nodes (host and port), the seeds a cluster client starts from. */
  nodes: RedisNode[];
  version: string;
  /**
   * Stops every node and starts it again on its ports with its data (the cluster's own state in nodes.conf, the keys
   * in the AOF when persistent); resolves once the cluster says it is ok again.
   */
  restart(): Promise<void>;
  /** Stops one node (the cluster fails once the others notice: its slots are served by nobody). */
  stopNode(index: number): Promise<void>;
  /** Starts a stopped node again on its ports with its data; resolves once the cluster is ok again. */
  startNode(index: number): Promise<void>;
  stop(): Promise<void>;
}

const MASTERS = 3;

/**
 * A private Redis Cluster of `masters` (default 3) master nodes and no replicas on free loopback ports, made of Debian's
 * redis-server and joined by `redis-cli --cluster create`, as an operator would; each node's data in `dataDir`/node-N.
 */
export async function startRedisCluster(options: {
  log: ServiceLog;
  dataDir: string;
  persistent: boolean;
  masters?: number;
}): Promise<EmbeddedRedisCluster> {
  const binary = findRedisServer() ?? installRedisServer(options.log);
  // Debian's redis-server package brings redis-cli (redis-tools); a REDIS_SERVER_BIN build has it beside the server.
  const cli = which('redis-cli', [dirname(binary), ...SYSTEM_DIRS]);
  if (!cli) throw new Error(`no redis-cli beside ${binary} or on PATH: it joins the nodes of the embedded Redis Cluster`);
  const count = options.masters ?? MASTERS;
  const ports: Array<{ port: number; bus: number }> = [];
  const used = new Set<number>();
  while (ports.length < count) {
    const [port, bus] = [await freePort(), await freePort()];
    if (port === bus || used.has(port) || used.has(bus)) continue;
    used.add(port).add(bus);
    ports.push({ port, bus });
  }
  const start = (index: number) =>
    startRedis({
      log: options.log,
      dataDir: join(options.dataDir, `node-${index}`),
      persistent: options.persistent,
      port: ports[index]!.port,
      clusterBusPort: ports[index]!.bus,
    });
  const servers: Array<EmbeddedRedis | undefined> = [];
  const stopNode = async (index: number) => {
    await servers[index]?.stop();
    servers[index] = undefined;
  };
  const stop = async () => {
    await Promise.all(ports.map((_, index) => stopNode(index)));
  };
  const startAll = async () => {
    await Promise.all(ports.map(async (_, index) => (servers[index] ??= await start(index))));
  };
  try {
    await startAll();
    const addresses = ports.map(({ port }) => `127.0.0.1:${port}`);
    run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      what: 'redis-cli --cluster create',
      timeout: 60_000,
    });
    await clusterReady(ports, count);
    options.log.info('embedded Redis Cluster started', { masters: count, ports: ports.map(({ port }) => port) });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map(({ port }) => ({ host: '127.0.0.1', port })),
    version: servers[0]!.version,
    async restart() {
      await stop();
      await startAll();
      await clusterReady(ports, count);
    },
    stopNode,
    async startNode(index) {
      servers[index] ??= await start(index);
      await clusterReady(ports, count);
    },
    stop,
  };
}

/** Every node says `cluster_state:ok` and knows all the others. */
async function clusterReady(ports: ReadonlyArray<{ port: number }>, count: number): Promise<void> {
  await Promise.all(
    ports.map(({ port }) =>
      waitUntil(
        async () => {
          const info = await tcpAsk(port, 'CLUSTER INFO\r\n');
          return /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${count}\\b`).test(info);
        },
        { what: `Redis Cluster node on port ${port}`, timeoutMs: 30_000 },
      ),
    ),
  );
}
