import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import type { Keys } from './keys.js';

/** The payload of a drain job, validated again by the worker that takes it (style: job payloads are input). */
export const DrainJobSchema = z.strictObject({ partition: z.number().int().min(0) });
export type DrainJob = z.infer<typeof DrainJobSchema>;

export interface DrainQueue {
  readonly queue: Queue<DrainJob>;
  /**
   * Asks for the partitions to be drained. Per partition at most one drain runs and one more waits:
   * BullMQ's `keepLastIfActive` de-duplication never runs two drains of a partition in parallel (so one
   * user's records are applied in order) and never drops a request made while a drain is running
   * (that drain may have read the stream before the new record arrived).
   */
  requestDrain(partitions: Iterable<number>): Promise<void>;
  close(): Promise<void>;
}

export function createDrainQueue(connection: ConnectionOptions, keys: Keys): DrainQueue {
  const queue = new Queue<DrainJob>(keys.queues.drain, {
    connection,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 1_000 },
    },
  });
  return {
    queue,
    async requestDrain(partitions) {
      const unique = [...new Set(partitions)];
      await Promise.all(
        unique.map((partition) =>
          queue.add('drain', { partition }, { deduplication: { id: keys.drainJobId(partition), keepLastIfActive: true } }),
        ),
      );
    },
    close: () => queue.close(),
  };
}
