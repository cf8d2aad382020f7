import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import { KeyIdSchema } from './ids.js';
import type { Keys } from './keys.js';

/** The payload of a schedule trigger's run, validated again by the worker that takes it (job payloads are input). */
export const ScheduleRunJobSchema = z.strictObject({
  journeyId: KeyIdSchema,
  version: z.number().int().positive(),
  /** The run's instant, epoch ms: the trigger's `at`, or an occurrence of its `cron`. */
  at: z.number().int().nonnegative(),
  /** A "user"-zoned cron's run: the zones whose users it enters (absent: every user). */
  zones: z.array(z.string().min(1).max(64)).min(1).max(1_000).optional(),
});
export type ScheduleRunJob = z.infer<typeof ScheduleRunJobSchema>;

export interface ScheduleQueue {
  readonly queue: Queue<ScheduleRunJob>;
  /**
   * Adds the run of a `schedule` trigger: a job delayed until `at` (at once when `at` has passed) that enters
   * the journey's audience. The job id is derived from (journey, version, at) and the job is kept after it
   * finishes, so adding the same run again, before or after it ran, is a no-op. Returns the job id.
   */
  scheduleJourneyRun(journeyId: string, version: number, at: number, options?: ScheduleRunOptions): Promise<string>;
  close(): Promise<void>;
}

export interface ScheduleRunOptions {
  /** The zones of a "user"-zoned cron's run. */
  zones?: readonly string[] | null;
  /**
   * A cron's run: its finished job is removed after RECURRING_RUN_KEPT_MS. Only runs to come are ever added for a
   * cron, so a removed one is never added again; a one-time run's job is kept for good.
   */
  recurring?: boolean;
}

/** How long the job of a recurring schedule's finished run is kept (for operators to look at). */
export const RECURRING_RUN_KEPT_MS = 30 * 24 * 60 * 60 * 1000;

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
    async scheduleJourneyRun(journeyId, version, at, { zones = null, recurring = false } = {}) {
      const data = ScheduleRunJobSchema.parse({ journeyId, version, at, ...(zones ? { zones: [...zones] } : {}) });
      const jobId = keys.scheduleJobId(journeyId, version, at);
      const kept = recurring ? { removeOnComplete: { age: RECURRING_RUN_KEPT_MS / 1000 } } : {};
      await queue.add('schedule-run', data, { jobId, delay: Math.max(0, at - now()), ...kept });
      return jobId;
    },
    close: () => queue.close(),
  };
}
