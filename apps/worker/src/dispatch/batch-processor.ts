import { DispatchJobSchema, type DispatchJob, type DispatchQueue, type Keys } from '@journey/redis';
import type { Logger } from '@journey/config';
import { UnrecoverableError, type ConnectionOptions } from 'bullmq';
import { startWorkerGroup, type WorkerGroup } from '../engine-worker.js';
import { jobLockOptions } from '../job-lock.js';
import { processJob } from '../process-job.js';
import { dispatchBatch, type BatchResult, type DispatchDeps } from './dispatch-batch.js';

export interface BatchProcessorOptions {
  keys: Keys;
  dispatchQueue: DispatchQueue;
  connection: ConnectionOptions;
  /** Batch jobs this process runs at once (over every dispatch queue). */
  concurrency: number;
  deps: DispatchDeps;
  /** BullMQ job lock and stalled-check interval: see jobLockOptions. */
  lockMs: number;
  logger: Logger;
}

/**
 * Runs dispatch jobs. A job that cannot name a batch is a bug, not a transient failure: it fails at once
 * (UnrecoverableError) instead of being retried. Any other error fails the attempt, and BullMQ retries the
 * batch with backoff; a crashed worker's job is picked up by another worker (stalled-job recovery).
 */
export function startBatchProcessor(options: BatchProcessorOptions): WorkerGroup<DispatchJob, BatchResult> {
  const { keys, dispatchQueue, deps } = options;
  return startWorkerGroup<DispatchJob, BatchResult>(
    keys.queues.dispatch,
    processJob('dispatch', DispatchJobSchema, (data, job) => {
      const batch = dispatchQueue.batchOf(data);
      if (!batch) throw new UnrecoverableError(`dispatch job ${job.id} names no batch of this engine: ${data.batchKey}`);
      return dispatchBatch(deps, batch);
    }),
    {
      connection: options.connection,
      concurrency: options.concurrency,
      autorun: true,
      ...jobLockOptions(options.lockMs),
      logger: options.logger,
      what: 'dispatch',
    },
  );
}
