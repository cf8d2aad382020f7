import { hostname } from 'node:os';
import type { Logger } from '@journey/config';
import { isRedisUnavailableError } from '@journey/redis';
import { Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';

/** The first wait after a failed fetch of the next job; each further failure in a row doubles it, up to the most. */
export const FETCH_RETRY_BASE_MS = 100;
export const FETCH_RETRY_MAX_MS = 5_000;

/** This process as BullMQ records it on every job it takes (`processedBy`, shown by the dashboard): host and pid. */
export const PROCESS_NAME = `${hostname()}:${process.pid}`;

/**
 * A BullMQ worker of the engine:
 * - Jobs record which process ran them (PROCESS_NAME).
 * - Its errors are logged. BullMQ reports what it cannot throw (a job lock it could not renew, a failed fetch) as
 *   'error' events, and an event nobody listens to is printed raw on stderr (stack lines, "Error: write ECONNRESET").
 * - It backs off when fetching the next job fails. BullMQ fetches again at once after a failure that is no refused
 *   connection (MOVED, CLUSTERDOWN, LOADING, a closed stream): a tight loop of errors while Redis cannot serve. Here
 *   each failure in a row waits 100 ms, doubling up to 5 s, before the next fetch.
 */
export class EngineWorker<D = unknown, R = unknown> extends Worker<D, R> {
  private failedFetches = 0;

  constructor(name: string, processor: Processor<D, R>, options: WorkerOptions & { logger: Logger; what: string }) {
    const { logger, what, ...workerOptions } = options;
    super(name, processor, { ...workerOptions, name: workerOptions.name ?? PROCESS_NAME });
    this.on('error', (error) => {
      // An outage is reported by /health and retried; a bug deserves the error level.
      if (isRedisUnavailableError(error)) logger.warn({ err: error, queue: name }, `${what} worker: Redis unavailable`);
      else logger.error({ err: error, queue: name }, `${what} worker error`);
    });
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<D, R>> {
    if (this.failedFetches > 0) await this.waitOut(Math.min(FETCH_RETRY_MAX_MS, FETCH_RETRY_BASE_MS * 2 ** (this.failedFetches - 1)));
    try {
      const job = await super.moveToActive(token, name);
      this.failedFetches = 0;
      return job;
    } catch (error) {
      this.failedFetches++;
      throw error;
    }
  }

  /** Waits `ms`, or less once the worker is closing (a close must not wait out a backoff). */
  private async waitOut(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.closing) await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
  }
}

/** The workers of one kind of job, one per queue group, taking the process's concurrency for that kind between them. */
export interface WorkerGroup<D, R> {
  readonly workers: readonly EngineWorker<D, R>[];
  onFailed(listener: (job: Job<D, R> | undefined, error: Error) => void): void;
  /** Lets active jobs finish, then stops every worker. */
  close(): Promise<void>;
}

/**
 * Starts an EngineWorker on each of `queues`. `concurrency` is the process's for this kind of job, dealt out to the
 * queues (at least one each): the groups are evenly loaded, as partitions and shards are hashed from user ids.
 */
export function startWorkerGroup<D, R>(
  queues: readonly string[],
  processor: Processor<D, R>,
  options: WorkerOptions & { concurrency: number; logger: Logger; what: string },
): WorkerGroup<D, R> {
  const concurrency = Math.max(1, Math.ceil(options.concurrency / queues.length));
  const workers = queues.map((name) => new EngineWorker<D, R>(name, processor, { ...options, concurrency }));
  return {
    workers,
    onFailed(listener) {
      for (const worker of workers) worker.on('failed', listener);
    },
    close: async () => {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
