import type { Config, Logger } from '@journey/config';
import type { MongoStore } from '@journey/mongo';
import type { RedisClient } from '@journey/redis';
import { startDispatch } from './dispatch/start-dispatch.js';
import { startIngestion } from './ingest/start-ingestion.js';

export interface WorkerDeps {
  config: Config;
  logger: Logger;
  mongo: MongoStore;
  /** A blocking connection (maxRetriesPerRequest: null), shared by the BullMQ workers of this process. */
  redis: RedisClient;
  /** Milliseconds since the epoch (default Date.now); tests move their own clock. */
  now?: () => number;
}

export interface RunningProcessors {
  names: string[];
  close(): Promise<void>;
}

/** Every BullMQ processor this process runs; each returns a close function that lets active jobs finish. */
export async function startProcessors(deps: WorkerDeps): Promise<RunningProcessors> {
  const running: Array<{ name: string; close: () => Promise<void> }> = [];
  deps.logger.debug('starting processors');
  const ingestion = await startIngestion(deps);
  running.push({ name: ingestion.names.join('+'), close: ingestion.close });
  const dispatch = await startDispatch(deps);
  running.push({ name: dispatch.names.join('+'), close: dispatch.close });
  return {
    names: running.map((p) => p.name),
    close: async () => {
      await Promise.allSettled(running.map((p) => p.close()));
    },
  };
}
