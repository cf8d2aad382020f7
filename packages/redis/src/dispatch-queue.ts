import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import type { CarvedBatch } from './due-schedule.js';
import type { BatchRef, Keys } from './keys.js';

/** A dispatch job names one carved batch by its key; the worker parses it back (style: job payloads are input). */
export const DispatchJobSchema = z.strictObject({ batchKey: z.string().min(1) });
export type DispatchJob = z.infer<typeof DispatchJobSchema>;

export interface DispatchQueue {
  readonly queue: Queue<DispatchJob>;
  /** One job per batch, its id derived from the batch: enqueueing a batch twice (two schedulers, the recovery sweep) adds one job. */
  enqueue(batches: readonly Pick<CarvedBatch, 'batch' | 'key'>[]): Promise<void>;
  /** The batch a job names, or undefined when its key is not a batch key of this prefix. */
  batchOf(job: DispatchJob): BatchRef | undefined;
  close(): Promise<void>;
}

export function createDispatchQueue(connection: ConnectionOptions, keys: Keys): DispatchQueue {
  const queue = new Queue<DispatchJob>(keys.queues.dispatch, {
    connection,
    defaultJobOptions: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000 },
      // Kept for the operators' view (counts and recent failures); bounded so Redis does not grow with traffic.
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    },
  });
  return {
    queue,
    async enqueue(batches) {
      if (batches.length === 0) return;
      await queue.addBulk(batches.map(({ batch, key }) => ({ name: 'batch', data: { batchKey: key }, opts: { jobId: keys.batchJobId(batch) } })));
    },
    batchOf(job) {
      return keys.parseBatch(job.batchKey);
    },
    close: () => queue.close(),
  };
}
