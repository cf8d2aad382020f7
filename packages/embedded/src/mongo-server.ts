import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { ServiceLog } from './service-log.js';
import { cacheDir } from './cache-dir.js';
import { ensureFerretDb } from './ferretdb.js';
import { freePort, startDaemon, waitUntil } from './process.js';

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

async function tryMongodbMemoryServer(options: { log: ServiceLog; dataDir: string; persistent: boolean }): Promise<EmbeddedMongo | undefined> {
  if (!process.env.MONGOMS_SYSTEM_BINARY && downloadRecentlyFailed()) {
    options.log.info('skipping mongodb-memory-server: downloading mongod failed within the last day (set MONGOMS_SYSTEM_BINARY to use a local mongod)');
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
    options.log.warn('mongodb-memory-server could not start mongod; falling back to FerretDB', { reason: (error as Error).message.split('\n')[0] });
    if (!process.env.MONGOMS_SYSTEM_BINARY) writeFileSync(join(cacheDir(), DOWNLOAD_FAILURE_MARKER), String(Date.now()));
    return undefined;
  }
}

async function startFerretDb(options: { log: ServiceLog; dataDir: string }): Promise<EmbeddedMongo> {
  const binary = await ensureFerretDb(options.log);
  const dataDir = join(options.dataDir, 'ferretdb');
  mkdirSync(join(dataDir, 'sqlite'), { recursive: true });
  const port = await freePort();
  const logFile = join(dataDir, 'ferretdb.log');
  const daemon = startDaemon(
    binary.path,
    [
      '--handler=sqlite',
      // WAL with synchronous=NORMAL: a commit survives the process's crash, not the machine's power loss (fine for
      // a local server) and costs no fsync, which halves the time of every write (docs/embedded-mongodb.md).
      `--sqlite-url=file:${join(dataDir, 'sqlite')}/?_pragma=synchronous(normal)`,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=WARN',
    ],
    logFile,
  );
  const uri = `mongodb://127.0.0.1:${port}/`;
  let version = 'unknown';
  await waitUntil(
    async () => {
      const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
      try {
        const info = await client.db('admin').command({ buildInfo: 1 });
        version = String(info.version);
        return true;
      } finally {
        await client.close();
      }
    },
    { what: `FerretDB on port ${port}`, timeoutMs: 30_000, daemon, logFile },
  );
  options.log.info(`embedded FerretDB ${binary.label} started`, { port });
  return { uri, server: `FerretDB ${binary.label} on SQLite, reporting MongoDB ${version}`, stop: () => daemon.stop() };
}

/**
 * A MongoDB-protocol server for a machine that has none: a real mongod through mongodb-memory-server
 * where one can be had, otherwise FerretDB (see docs/embedded-mongodb.md for why and what it lacks).
 */
export async function startMongo(options: { log: ServiceLog; dataDir: string; persistent: boolean }): Promise<EmbeddedMongo> {
  if (process.env.JOURNEY_EMBEDDED_MONGO !== 'ferretdb') {
    const mongod = await tryMongodbMemoryServer(options);
    if (mongod) return mongod;
  }
  return startFerretDb(options);
}
