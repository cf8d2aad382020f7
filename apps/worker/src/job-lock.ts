import type { WorkerOptions } from 'bullmq';

/**
 * BullMQ's job lock and stalled-job check from one knob (`JOB_LOCK_MS`): a crashed worker's active job is taken
 * over once its lock expired and the next stalled check ran, so within about twice `lockMs`. Undefined keeps
 * BullMQ's defaults (30 s each).
 */
export function jobLockOptions(lockMs: number | undefined): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'> {
  return lockMs === undefined ? {} : { lockDuration: lockMs, stalledInterval: lockMs };
}
