import { RedisStoreError } from '@journey/redis';
import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';

/**
 * A BullMQ processor whose job payload is input like any other: validated by `schema` before `fn` sees it. A bad
 * payload, and a store error that says no retry can help (`RedisStoreError.unrecoverable`: a bug, a key this engine
 * never builds), fail the job at once (BullMQ's UnrecoverableError) instead of burning its attempts.
 */
export function processJob<S extends z.ZodType, R>(
  what: string,
  schema: S,
  fn: (data: z.output<S>, job: Job) => Promise<R>,
): (job: Job) => Promise<R> {
  return async (job) => {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`${what} job ${job.id} has an invalid payload: ${z.prettifyError(parsed.error)}`);
    try {
      return await fn(parsed.data, job);
    } catch (error) {
      if (error instanceof RedisStoreError && error.unrecoverable)
        throw new UnrecoverableError(`${what} job ${job.id}: ${error.code}: ${error.message}`);
      throw error;
    }
  };
}
