import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { ServiceLog } from './service-log.js';
import { cacheDir } from './cache-dir.js';
import { startJavaStore } from './java-store.js';
import { freePort } from './process.js';

export interface EmbeddedMongo {
  uri: string;
  /** Human description of the server, printed by `npm test` and `npm start`. */
  server: string;
  stop(): Promise<void>;
}

const DOWNLOAD_FAILURE_MARKER = 'mongod-download-failed';
const RETRY_DOWNLOAD_AFTER_MS = 24 * 60 * 60_000;

/** A machine that could not download mongod a moment ago will not now: skip the ~7 s attempt for a day. */
function downloadRecentlyFailed(): boolean {
  const marker = join(cacheDir(), DOWNLOAD_FAILURE_MARKER);
  if (!existsSync(marker)) return false;
  return Date.now() - Number(readFileSync(marker, 'utf8')) < RETRY_DOWNLOAD_AFTER_MS;
}

async function tryMongodbMemoryServer(options: {
  log: ServiceLog;
  dataDir: string;
  persistent: boolean;
}): Promise<EmbeddedMongo | undefined> {
  if (!process.env.MONGOMS_SYSTEM_BINARY && downloadRecentlyFailed()) {
    options.log.info(
      'skipping mongodb-memory-server: downloading mongod failed within the last day (set MONGOMS_SYSTEM_BINARY to use a local mongod)',
    );
    return undefined;
  }
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const dbPath = join(options.dataDir, 'mongod');
  mkdirSync(dbPath, { recursive: true });
  try {
    const server = await MongoMemoryServer.create({
      instance: { ip: '127.0.0.1', port: await freePort(), dbPath, storageEngine: 'wiredTiger' },
    });
    const client = await MongoClient.connect(server.getUri(), { serverSelectionTimeoutMS: 5_000 });
    const { version } = await client.db('admin').command({ buildInfo: 1 });
    await client.close();
    return {
      uri: server.getUri(),
      server: `mongod ${version} (mongodb-memory-server)`,
      stop: async () => {
        await server.stop({ doCleanup: !options.persistent, force: false });
      },
    };
  } catch (error) {
    options.log.warn('mongodb-memory-server could not start mongod; falling back to the embedded store', {
      reason: (error as Error).message.split('\n')[0],
    });
    if (!process.env.MONGOMS_SYSTEM_BINARY) writeFileSync(join(cacheDir(), DOWNLOAD_FAILURE_MARKER), String(Date.now()));
    return undefined;
  }
}

/**
 * A MongoDB-protocol server for a machine that has none: a real mongod through mongodb-memory-server
 * where one can be had, otherwise mongo-java-server with our indexes (docs/embedded-mongodb.md: why, and what it
 * lacks). JOURNEY_EMBEDDED_MONGO=mongo-java-server skips the mongod attempt.
 */
export async function startMongo(options: { log: ServiceLog; dataDir: string; persistent: boolean }): Promise<EmbeddedMongo> {
  if (process.env.JOURNEY_EMBEDDED_MONGO !== 'mongo-java-server') {
    const mongod = await tryMongodbMemoryServer(options);
    if (mongod) return mongod;
  }
  const store = await startJavaStore(options);
  return { uri: store.uri, server: store.server, stop: store.stop };
}
