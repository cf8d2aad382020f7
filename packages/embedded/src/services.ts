import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongo } from './mongo-server.js';
import { startRedis } from './redis-server.js';
import type { ServiceLog } from './service-log.js';

export interface Services {
  redisUrl: string;
  mongoUri: string;
  /** e.g. "redis-server 7.0.15 (embedded)" or "external (REDIS_URL)". */
  redis: string;
  mongo: string;
  stop(): Promise<void>;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Uses REDIS_URL / MONGODB_URI when given; otherwise starts private servers on free loopback ports.
 * `dataDir` keeps their data (npm start); without it a temporary directory is used and removed on stop (tests).
 */
export async function provideServices(options: { log: ServiceLog; env?: NodeJS.ProcessEnv; dataDir?: string }): Promise<Services> {
  const env = options.env ?? process.env;
  const persistent = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'journey-services-'));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
    if (!persistent) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    let redisUrl = env.REDIS_URL;
    let redis = `external Redis at ${redisUrl ? redact(redisUrl) : ''} (REDIS_URL)`;
    if (!redisUrl) {
      const embedded = await startRedis({ log: options.log, dataDir: join(dataDir, 'redis'), persistent });
      stops.push(embedded.stop);
      redisUrl = embedded.url;
      redis = `redis-server ${embedded.version} (embedded, ${embedded.url})`;
    }
    let mongoUri = env.MONGODB_URI;
    let mongo = `external MongoDB at ${mongoUri ? redact(mongoUri) : ''} (MONGODB_URI)`;
    if (!mongoUri) {
      const embedded = await startMongo({ log: options.log, dataDir, persistent });
      stops.push(embedded.stop);
      mongoUri = embedded.uri;
      mongo = `${embedded.server} (embedded, ${embedded.uri})`;
    }
    return { redisUrl, mongoUri, redis, mongo, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
