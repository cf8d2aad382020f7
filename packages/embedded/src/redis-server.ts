import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceLog } from './service-log.js';
import { aptInstall, SYSTEM_DIRS } from './apt.js';
import { freePort, startDaemon, tcpAsk, waitUntil, which } from './process.js';

export interface EmbeddedRedis {
  url: string;
  version: string;
  port: number;
  stop(): Promise<void>;
}

/** Installs Debian's redis-server with apt-get; fails with a clear message where that is impossible. */
export function installRedisServer(log: ServiceLog): string {
  aptInstall(['redis-server'], {
    log,
    missing: 'redis-server is not installed',
    otherwise: 'Install Redis 7 (redis-server on PATH, or REDIS_SERVER_BIN=/path/to/redis-server) or set REDIS_URL to a running Redis.',
  });
  const installed = which('redis-server', SYSTEM_DIRS);
  if (!installed) throw new Error('apt-get installed redis-server but no redis-server binary was found on PATH');
  return installed;
}

export function findRedisServer(): string | undefined {
  return process.env.REDIS_SERVER_BIN ?? which('redis-server', SYSTEM_DIRS);
}

function redisVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=([\d.]+)/.exec(out)?.[1] ?? 'unknown';
}

/**
 * Starts a private redis-server on a free loopback port (or `port`: a fault test restarts a server where its clients
 * expect it). `persistent` keeps its data (AOF) in `dataDir` so `npm start` keeps accepted events across restarts;
 * without, it is a throw-away test server. `clusterBusPort` starts it as a Redis Cluster node (its cluster state in
 * `dataDir`/nodes.conf), which redis-cluster.ts joins to the others.
 */
export async function startRedis(options: {
  log: ServiceLog;
  dataDir: string;
  persistent: boolean;
  port?: number;
  clusterBusPort?: number;
}): Promise<EmbeddedRedis> {
  const binary = findRedisServer() ?? installRedisServer(options.log);
  const version = redisVersion(binary);
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const logFile = join(options.dataDir, 'redis.log');
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']
    : ['--appendonly', 'no', '--save', ''];
  const cluster =
    options.clusterBusPort === undefined
      ? []
      : [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(options.clusterBusPort),
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ];
  const daemon = startDaemon(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      options.dataDir,
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      ...persistence,
      ...cluster,
    ],
    logFile,
  );
  await waitUntil(async () => (await tcpAsk(port, 'PING\r\n')).startsWith('+PONG'), {
    what: `redis-server on port ${port}`,
    timeoutMs: 15_000,
    daemon,
    logFile,
  });
  options.log.info(`embedded redis-server started${cluster.length > 0 ? ' (cluster node)' : ''}`, { port, version });
  return { url: `redis://127.0.0.1:${port}`, version, port, stop: () => daemon.stop() };
}
