import { Queue, type ConnectionOptions } from 'bullmq';
import DataLoader from 'dataloader';
import { z } from 'zod';
import type { Keys } from './keys.js';

/** The payload of a drain job, validated again by the worker that takes it (style: job payloads are input). */
export const DrainJobSchema = z.strictObject({ partition: z.number().int().min(0) });
export type DrainJob = z.infer<typeof DrainJobSchema>;

export interface DrainQueue {
  /** One BullMQ queue per group of partitions (keys.queues.drain): a partition's drains go to its group's. */
  readonly queues: readonly Queue<DrainJob>[];
  /**
   * Asks for the partitions to be drained. Per partition at most one drain runs and one more waits:
   * BullMQ's `keepLastIfActive` de-duplication never runs two drains of a partition in parallel (so one
   * user's records are applied in order) and never drops a request made while a drain is running
   * (that drain may have read the stream before the new record arrived). Requests made within
   * `COALESCE_MS` of each other share one job add per partition; each resolves once its adds are made.
   */
  requestDrain(partitions: Iterable<number>): Promise<void>;
  close(): Promise<void>;
}

/**
 * How long a request waits for others to share its adds. A batch of 100 events touches most partitions, and a job
 * add costs the API more CPU than the events' own append: concurrent requests should pay for it once.
 * Safe because every add of a batch is made after every request in it was appended: nothing rides on an add that
 * was already sent, which a drain could have acted on before the request's records arrived.
 */
const COALESCE_MS = 1;

export function createDrainQueue(connection: ConnectionOptions, keys: Keys): DrainQueue {
  const queues = keys.queues.drain.map(
    (name) =>
      new Queue<DrainJob>(name, {
        connection,
        defaultJobOptions: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: { count: 1_000 },
          removeOnFail: { count: 1_000 },
        },
      }),
  );
  const byName = new Map(queues.map((queue) => [queue.name, queue]));
  // A partition's drains always go to the same queue: its de-duplication is what keeps them one at a time.
  const addJob = (partition: number) =>
    byName
      .get(keys.drainQueueOf(partition))!
      .add('drain', { partition }, { deduplication: { id: keys.drainJobId(partition), keepLastIfActive: true } });
  const requests = new DataLoader<number, true>(
    async (partitions) => {
      const added = new Map(
        [...new Set(partitions)].map((partition) => [
          partition,
          addJob(partition).then(
            (): true => true,
            (error: unknown) => toError(error),
          ),
        ]),
      );
      return Promise.all(partitions.map((partition) => added.get(partition)!));
    },
    { cache: false, batchScheduleFn: (callback) => setTimeout(callback, COALESCE_MS) },
  );
  return {
    queues,
    async requestDrain(partitions) {
      // Repeated partitions are fine: the batch makes one add per distinct partition.
      const results = await requests.loadMany([...partitions]);
      const failed = results.find((result): result is Error => result instanceof Error);
      if (failed) throw failed;
    },
    close: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
