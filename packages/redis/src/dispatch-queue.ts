import { groupBy } from '@journey/core';
import { Queue, type JobState, type JobsOptions } from 'bullmq';
import type { RedisClient } from './connection.js';
import { z } from 'zod';
import type { CarvedBatch } from './due-schedule.js';
import { UnexpectedReplyError } from './errors.js';
import type { BatchRef, Keys } from './keys.js';

/** A dispatch job names one carved batch by its key; the worker parses it back (style: job payloads are input). */
export const DispatchJobSchema = z.strictObject({ batchKey: z.string().min(1) });
export type DispatchJob = z.infer<typeof DispatchJobSchema>;

/**
 * Where the job of a carved batch is: `pending` (waiting, delayed or running: it will finish the batch), `failed`
 * (out of attempts), `completed`, or `missing` (never added, or removed).
 */
export type BatchJobState = 'pending' | 'failed' | 'completed' | 'missing';

export interface DispatchQueue {
  /** One BullMQ queue per group of due shards (keys.queues.dispatch): a batch goes to its shard's. */
  readonly queues: readonly Queue<DispatchJob>[];
  /** The queue of a shard's batches. */
  queueOf(shard: number): Queue<DispatchJob>;
  /** One job per batch, its id derived from the batch: enqueueing a batch twice (two schedulers, the recovery sweep) adds one job. */
  enqueue(batches: readonly Pick<CarvedBatch, 'batch' | 'key'>[]): Promise<void>;
  /**
   * The state of each batch's job, in one round trip of constant-time lookups. BullMQ's own getState searches the
   * wait list, which holds a job per unfinished batch, so the recovery pass that asks it for every stale batch grew
   * with the square of the backlog (5,008 queued batches: 40,096 commands and 0.2 s of Redis per pass).
   */
  jobStates(batches: readonly BatchRef[]): Promise<BatchJobState[]>;
  /** Moves the failed job of a batch back to waiting (a new round of attempts); false when it is gone. */
  retryFailed(batch: BatchRef): Promise<boolean>;
  /** The batch a job names, or undefined when its key is not a batch key of this prefix. */
  batchOf(job: DispatchJob): BatchRef | undefined;
  close(): Promise<void>;
}

/** How a dispatch job is retried and kept: for the operators' view (counts and recent failures), bounded so Redis does not grow with traffic. */
export const DISPATCH_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
} as const satisfies JobsOptions;

export function createDispatchQueue(redis: RedisClient, keys: Keys): DispatchQueue {
  const queues = keys.queues.dispatch.map(
    (name) => new Queue<DispatchJob>(name, { connection: redis, defaultJobOptions: DISPATCH_JOB_OPTIONS }),
  );
  const byName = new Map(queues.map((queue) => [queue.name, queue]));
  const queueOf = (shard: number) => byName.get(keys.dispatchQueueOf(shard))!;

  /** The states of batches of one queue: one pipeline, every key of it in the queue's slot. */
  async function statesIn(queue: Queue<DispatchJob>, batches: readonly BatchRef[]): Promise<BatchJobState[]> {
    const pipeline = redis.pipeline();
    for (const batch of batches) {
      const jobId = keys.batchJobId(batch);
      // BullMQ's layout: the job's hash is named by its id, the failed and completed sets by their state.
      pipeline.exists(queue.toKey(jobId)).zscore(queue.toKey('failed'), jobId).zscore(queue.toKey('completed'), jobId);
    }
    const replies = ((await pipeline.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
    if (replies.length !== batches.length * 3) throw new UnexpectedReplyError({ script: 'jobStates', reply: replies.length });
    return batches.map((_, index) => {
      const [exists, failed, completed] = replies.slice(index * 3, index * 3 + 3);
      if (exists !== 1) return 'missing';
      if (failed !== null) return 'failed';
      return completed !== null ? 'completed' : 'pending';
    });
  }

  return {
    queues,
    queueOf,
    async enqueue(batches) {
      await Promise.all(
        [...groupBy(batches, ({ batch }) => queueOf(batch.shard))].map(([queue, group]) =>
          queue.addBulk(
            group.map(({ batch, key }) => ({ name: 'batch', data: { batchKey: key }, opts: { jobId: keys.batchJobId(batch) } })),
          ),
        ),
      );
    },
    async jobStates(batches) {
      const states = new Array<BatchJobState>(batches.length);
      const byQueue = groupBy(batches.keys(), (index) => queueOf(batches[index]!.shard));
      await Promise.all(
        [...byQueue].map(async ([queue, indexes]) => {
          const found = await statesIn(
            queue,
            indexes.map((index) => batches[index]!),
          );
          indexes.forEach((index, position) => (states[index] = found[position]!));
        }),
      );
      return states;
    },
    async retryFailed(batch) {
      const job = await queueOf(batch.shard).getJob(keys.batchJobId(batch));
      if (!job) return false;
      await job.retry('failed');
      return true;
    },
    batchOf(job) {
      return keys.parseBatch(job.batchKey);
    },
    close: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}

/** Jobs per state summed over queues (a kind's queue groups), for tests, benchmarks and progress lines. */
export async function countJobs(queues: readonly Queue[], ...states: JobState[]): Promise<Record<string, number>> {
  const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...states)));
  return Object.fromEntries(states.map((state) => [state, counts.reduce((sum, each) => sum + (each[state] ?? 0), 0)]));
}
