import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceLog } from './service-log.js';
import { freePort, run, startDaemon, tcpAsk, waitUntil, which } from './process.js';

const SYSTEM_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

export interface EmbeddedRedis {
  url: string;
  version: string;
  port: number;
  stop(): Promise<void>;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Installs Debian's redis-server with apt-get; fails with a clear message where that is impossible. */
export function installRedisServer(log: ServiceLog): string {
  const aptGet = which('apt-get', SYSTEM_DIRS);
  if (!aptGet) {
    throw new Error(
      'redis-server is not installed and this system has no apt-get to install it. ' +
        'Install Redis 7 (redis-server on PATH, or REDIS_SERVER_BIN=/path/to/redis-server) or set REDIS_URL to a running Redis.',
    );
  }
  const sudo = isRoot() ? [] : which('sudo', SYSTEM_DIRS) ? ['sudo', '-n'] : undefined;
  if (!sudo) {
    throw new Error('redis-server is not installed and installing it needs root: run `sudo apt-get install -y redis-server`, or set REDIS_URL.');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = [...sudo, aptGet];
  log.info('redis-server not found: installing Debian package redis-server with apt-get (once)');
  run(cmd, [...pre, 'update'], { env, what: 'apt-get update' });
  run(cmd, [...pre, 'install', '-y', '--no-install-recommends', 'redis-server'], { env, what: 'apt-get install redis-server' });
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
 * without, it is a throw-away test server.
 */
export async function startRedis(options: { log: ServiceLog; dataDir: string; persistent: boolean; port?: number }): Promise<EmbeddedRedis> {
  const binary = findRedisServer() ?? installRedisServer(options.log);
  const version = redisVersion(binary);
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const logFile = join(options.dataDir, 'redis.log');
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']
    : ['--appendonly', 'no', '--save', ''];
  const daemon = startDaemon(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', options.dataDir, '--daemonize', 'no', '--protected-mode', 'yes', ...persistence],
    logFile,
  );
  await waitUntil(async () => (await tcpAsk(port, 'PING\r\n')).startsWith('+PONG'), {
    what: `redis-server on port ${port}`,
    timeoutMs: 15_000,
    daemon,
    logFile,
  });
  options.log.info('embedded redis-server started', { port, version });
  return { url: `redis://127.0.0.1:${port}`, version, port, stop: () => daemon.stop() };
}
