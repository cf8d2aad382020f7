import type { Logger } from '@journey/config';
import type { DrainQueue, EventsStream } from '@journey/redis';
import { startPeriodic } from '../periodic.js';

export interface SweeperOptions {
  stream: Pick<EventsStream, 'lengths'>;
  drainQueue: Pick<DrainQueue, 'requestDrain'>;
  logger: Logger;
  /** Pause between sweeps (default 1 s): the bound on how long a record whose drain request was lost waits. */
  intervalMs?: number;
}

export interface Sweeper {
  /** One sweep: asks for a drain of every non-empty partition; returns those partitions. */
  sweep(): Promise<number[]>;
  /** Stops after the sweep under way. */
  stop(): Promise<void>;
}

/**
 * Requests drains for partitions that hold records, so records accepted while every worker was down, or whose
 * drain request was lost, are applied once a worker runs. Cheap: one pipelined XLEN per partition, and a
 * request for a partition whose drain is queued or running already is de-duplicated by the drain queue.
 * The first sweep runs at once.
 */
export function startSweeper(options: SweeperOptions): Sweeper {
  async function sweep(): Promise<number[]> {
    const lengths = await options.stream.lengths();
    const waiting = lengths.flatMap((length, partition) => (length > 0 ? [partition] : []));
    if (waiting.length > 0) await options.drainQueue.requestDrain(waiting);
    return waiting;
  }
  const periodic = startPeriodic(sweep, {
    intervalMs: options.intervalMs ?? 1_000,
    logger: options.logger,
    what: 'sweep of the event partitions',
  });
  return { sweep, stop: periodic.stop };
}
