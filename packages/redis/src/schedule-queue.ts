import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import { KeyIdSchema } from './ids.js';
import type { Keys } from './keys.js';

/** The payload of a schedule trigger's run, validated again by the worker that takes it (job payloads are input). */
export const ScheduleRunJobSchema = z.strictObject({
  journeyId: KeyIdSchema,
  version: z.number().int().positive(),
  /** The trigger's `at`, epoch ms. */
  at: z.number().int().nonnegative(),
});
export type ScheduleRunJob = z.infer<typeof ScheduleRunJobSchema>;

export interface ScheduleQueue {
  readonly queue: Queue<ScheduleRunJob>;
  /**
   * Adds the run of a `schedule` trigger: a job delayed until `at` (at once when `at` has passed) that enters
   * the journey's audience. The job id is derived from (journey, version, at) and the job is kept after it
   * finishes, so adding the same run again, before or after it ran, is a no-op. Returns the job id.
   */
  scheduleJourneyRun(journeyId: string, version: number, at: number): Promise<string>;
  close(): Promise<void>;
}

export interface ScheduleQueueOptions {
  /** Milliseconds since the epoch; the delay is `at - now()`. */
  now?: () => number;
}

export function createScheduleQueue(connection: ConnectionOptions, keys: Keys, options: ScheduleQueueOptions = {}): ScheduleQueue {
  const now = options.now ?? Date.now;
  const queue = new Queue<ScheduleRunJob>(keys.queues.schedule, {
    connection,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000 },
      // Kept: the finished job is the record that this run happened (see scheduleJourneyRun).
      removeOnComplete: false,
      removeOnFail: false,
    },
  });
  return {
    queue,
    async scheduleJourneyRun(journeyId, version, at) {
      const data = ScheduleRunJobSchema.parse({ journeyId, version, at });
      const jobId = keys.scheduleJobId(journeyId, version, at);
      await queue.add('schedule-run', data, { jobId, delay: Math.max(0, at - now()) });
      return jobId;
    },
    close: () => queue.close(),
  };
}
