import { randomBytes } from 'node:crypto';
import type { Logger } from '@journey/config';
import type { DrainQueue, EventsStream, Leases } from '@journey/redis';
import { startPeriodic } from '../periodic.js';

export interface SweeperOptions {
  stream: Pick<EventsStream, 'lengths'>;
  drainQueue: Pick<DrainQueue, 'requestDrain'>;
  /** One sweeper of the fleet at a time: the holder of `lease`. */
  leases: Pick<Leases, 'take' | 'release'>;
  /** The lease key (keys.sweeperLease()). */
  lease: string;
  logger: Logger;
  /** Pause between sweeps (default 1 s): the bound on how long a record whose drain request was lost waits. */
  intervalMs?: number;
}

export interface Sweeper {
  /** One sweep, when this sweeper holds the lease: asks for a drain of every non-empty partition; returns those partitions. */
  sweep(): Promise<number[]>;
  /** Stops after the sweep under way and gives the lease up. */
  stop(): Promise<void>;
}

/**
 * Requests drains for partitions that hold records, so records accepted while every worker was down, or whose
 * drain request was lost, are applied once a worker runs. Cheap: one XLEN per partition, and a request for a
 * partition whose drain is queued or running already is de-duplicated by the drain queue. One worker of the fleet
 * sweeps at a time (the others only renew their claim to the lease), so the sweeps cost Redis the same however many
 * workers run; the lease lasts three sweeps, so a sweeper that died is replaced within about that. The first sweep
 * runs at once.
 */
export function startSweeper(options: SweeperOptions): Sweeper {
  const id = randomBytes(8).toString('hex');
  const intervalMs = options.intervalMs ?? 1_000;
  async function sweep(): Promise<number[]> {
    if (!(await options.leases.take(options.lease, id, 3 * intervalMs))) return [];
    const lengths = await options.stream.lengths();
    const waiting = lengths.flatMap((length, partition) => (length > 0 ? [partition] : []));
    if (waiting.length > 0) await options.drainQueue.requestDrain(waiting);
    return waiting;
  }
  const periodic = startPeriodic(sweep, { intervalMs, logger: options.logger, what: 'sweep of the event partitions' });
  return {
    sweep,
    async stop() {
      await periodic.stop();
      await options.leases.release(options.lease, id).catch(() => undefined);
    },
  };
}
