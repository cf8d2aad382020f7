import type { Logger } from '@journey/config';
import { DrainJobSchema, type DrainQueue, type EventsStream, type Keys } from '@journey/redis';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { jobLockOptions } from '../job-lock.js';
import type { RecordApplier, StreamRecord } from './apply-record.js';

/** Counters of one process's drains, for logs and ops. */
export interface DrainStats {
  applied: number;
  skipped: number;
  unreadable: number;
}

export interface AppliedRecord extends StreamRecord {
  partition: number;
}

export interface DrainProcessorOptions {
  keys: Keys;
  stream: Pick<EventsStream, 'read' | 'acknowledge'>;
  applier: RecordApplier;
  logger: Logger;
  /** Entries read per round trip (default 100). */
  chunkSize?: number;
  /** Called after each record was applied (not for skipped ones), in the user's order. */
  onApplied?: (applied: AppliedRecord) => void;
  /** Checked after each chunk: once true, the drain stops and asks for another one (the process is closing). */
  stopping?: () => boolean;
  drainQueue?: Pick<DrainQueue, 'requestDrain'>;
  stats?: DrainStats;
}

export type DrainResult = DrainStats;

/**
 * The drain of one partition (job id = the partition, so at most one runs at a time; see createDrainQueue):
 * reads the stream oldest first in chunks and applies each chunk, one user's records one after another in
 * stream order and different users in parallel, then acknowledges (trims) the chunk; until the stream is empty.
 * An entry that cannot be read is logged, counted and acknowledged with its chunk: it never blocks the
 * partition. A record whose application throws fails the job before its chunk is acknowledged, and BullMQ
 * retries it; records already applied are skipped by the retry (`users.lastRecord`).
 */
export function createDrainProcessor(options: DrainProcessorOptions): (job: Job) => Promise<DrainResult> {
  const { keys, stream, applier, logger } = options;
  const chunkSize = options.chunkSize ?? 100;
  const stats = options.stats ?? { applied: 0, skipped: 0, unreadable: 0 };

  return async (job) => {
    const parsed = DrainJobSchema.safeParse(job.data);
    if (!parsed.success || parsed.data.partition >= keys.eventPartitions) {
      throw new UnrecoverableError(`drain job ${job.id} has an invalid payload: ${JSON.stringify(job.data)}`);
    }
    const { partition } = parsed.data;
    const result: DrainResult = { applied: 0, skipped: 0, unreadable: 0 };

    for (;;) {
      const entries = await stream.read(partition, { count: chunkSize });
      if (entries.length === 0) break;

      const byUser = new Map<string, StreamRecord[]>();
      for (const entry of entries) {
        if (!entry.ok) {
          result.unreadable++;
          stats.unreadable++;
          logger.warn({ partition, streamId: entry.streamId, error: entry.error, raw: String(entry.raw).slice(0, 500) }, 'skipping an unreadable stream entry');
          continue;
        }
        const records = byUser.get(entry.record.userId);
        if (records) records.push(entry);
        else byUser.set(entry.record.userId, [entry]);
      }

      // allSettled, not all: a failure must not leave other users' records being applied while the retry starts.
      const settled = await Promise.allSettled(
        [...byUser.values()].map(async (records) => {
          for (const entry of records) {
            const outcome = await applier.apply(entry);
            result[outcome]++;
            stats[outcome]++;
            if (outcome === 'applied') options.onApplied?.({ ...entry, partition });
          }
        }),
      );
      const failure = settled.find((each): each is PromiseRejectedResult => each.status === 'rejected');
      if (failure) throw failure.reason;

      await stream.acknowledge(partition, entries.at(-1)!.streamId);
      if (options.stopping?.()) {
        // Whatever is left is drained by the next job (queued behind this one, so never in parallel).
        await options.drainQueue?.requestDrain([partition]);
        break;
      }
    }
    return result;
  };
}

export interface DrainWorkerOptions extends DrainProcessorOptions {
  connection: ConnectionOptions;
  /** Partitions drained at once by this process. */
  concurrency: number;
  /** BullMQ job lock and stalled-check interval (default BullMQ's 30 s): see jobLockOptions. */
  lockMs?: number;
}

export interface RunningDrainWorker {
  worker: Worker;
  stats: DrainStats;
  /** Lets the active drains finish their chunk, then stops. */
  close(): Promise<void>;
}

export function startDrainWorker(options: DrainWorkerOptions): RunningDrainWorker {
  let closing = false;
  const stats: DrainStats = options.stats ?? { applied: 0, skipped: 0, unreadable: 0 };
  const processor = createDrainProcessor({ ...options, stats, stopping: () => closing || (options.stopping?.() ?? false) });
  const worker = new Worker(options.keys.queues.drain, processor, {
    connection: options.connection,
    concurrency: options.concurrency,
    ...jobLockOptions(options.lockMs),
  });
  worker.on('failed', (job, error) => {
    options.logger.error({ err: error, jobId: job?.id, partition: job?.data?.partition, attemptsMade: job?.attemptsMade }, 'drain failed');
  });
  worker.on('error', (error) => options.logger.error({ err: error }, 'drain worker error'));
  return {
    worker,
    stats,
    close: async () => {
      closing = true;
      await worker.close();
    },
  };
}
