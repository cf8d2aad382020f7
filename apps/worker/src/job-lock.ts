import type { WorkerOptions } from 'bullmq';

/**
 * BullMQ's job lock and stalled-job check from one knob (`JOB_LOCK_MS`): a crashed worker's active job is taken
 * over once its lock expired and the next stalled check ran, so within about twice `lockMs`.
 */
export function jobLockOptions(lockMs: number): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'> {
  return { lockDuration: lockMs, stalledInterval: lockMs };
}
