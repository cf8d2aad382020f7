import { MongoClient, type Db } from 'mongodb';

export interface MongoStore {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/** One client per process; the driver pools connections. Fails fast when the server is unreachable. */
export async function connectMongo(
  uri: string,
  dbName: string,
  options: { appName?: string; monitorCommands?: boolean } = {},
): Promise<MongoStore> {
  const client = new MongoClient(uri, {
    appName: options.appName ?? 'journey-engine',
    // Benchmarks count the writes the engine issues through the driver's command events.
    monitorCommands: options.monitorCommands ?? false,
    serverSelectionTimeoutMS: 5_000,
    // Retries are safe for the single-document writes the engine makes; multi-document transactions are never used.
    retryWrites: true,
    retryReads: true,
  });
  await client.connect();
  return { client, db: client.db(dbName), close: () => client.close() };
}

/** Round-trip check for /health: resolves with the latency in ms, rejects when MongoDB does not answer in time. */
export async function pingMongo(db: Db, timeoutMs = 1_000): Promise<number> {
  const started = performance.now();
  await db.command({ ping: 1 }, { timeoutMS: timeoutMs });
  return Math.round(performance.now() - started);
}
