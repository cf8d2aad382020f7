import type { Logger } from '@journey/config';
import { groupBy } from '@journey/core';
import { DrainJobSchema, type DeadLetter, type DeadLetters, type DrainQueue, type EventsStream, type Keys } from '@journey/redis';
import { UnrecoverableError, type ConnectionOptions, type Job } from 'bullmq';
import { startWorkerGroup, type WorkerGroup } from '../engine-worker.js';
import { jobLockOptions } from '../job-lock.js';
import { processJob } from '../process-job.js';
import type { RecordApplier, StreamRecord } from './apply-record.js';

/** Counters of one process's drains, for logs and ops. */
export interface DrainStats {
  applied: number;
  skipped: number;
  unreadable: number;
  /** Records that failed too often and went to the dead letters. */
  deadLettered: number;
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
  /** Where a record that keeps failing goes, so its partition moves on without it. */
  deadLetters: Pick<DeadLetters, 'noteFailure'>;
  /**
   * Whether a failure is the stores' (unreachable, shutting down), not the record's: it fails the job, which BullMQ
   * retries, and counts nothing against the record.
   */
  isUnavailable: (error: unknown) => boolean;
  /** Runs after a chunk is read and before it is applied: the applier's view of the journeys catches up there. */
  beforeChunk?: () => Promise<void>;
  /** Told of each record moved to the dead letters. */
  onDeadLetter?: (letter: Omit<DeadLetter, 'failures'>) => void;
  /** The first wait before a failed record is tried again; each later wait doubles (default 100 ms). */
  retryBaseMs?: number;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
}

export type DrainResult = DrainStats;

/**
 * The drain of one partition (job id = the partition, so at most one runs at a time; see createDrainQueue):
 * reads the stream oldest first in chunks and applies each chunk, one user's records one after another in
 * stream order and different users in parallel, then acknowledges (trims) the chunk; until the stream is empty.
 * An entry that cannot be read is logged, counted and acknowledged with its chunk: it never blocks the
 * partition. A record whose application fails is tried again after a short wait, each failure counted in Redis
 * (so a crash forgets none); at the dead letters' limit it moves there with its error and the user's later records
 * go on: one poisoned record never holds up its partition for more than a second or two. A failure of the stores
 * themselves counts nothing: it fails the job before its chunk is acknowledged, and BullMQ retries it; records
 * already applied are skipped by the retry (`users.lastRecord`).
 */
export function createDrainProcessor(options: DrainProcessorOptions): (job: Job) => Promise<DrainResult> {
  const { keys, stream, applier, logger, deadLetters } = options;
  const chunkSize = options.chunkSize ?? 100;
  const retryBaseMs = options.retryBaseMs ?? 100;
  const now = options.now ?? Date.now;
  const stats = options.stats ?? { applied: 0, skipped: 0, unreadable: 0, deadLettered: 0 };

  /** Applies one record, trying a failed one again until it lands or becomes a dead letter. */
  async function applyRecord(partition: number, entry: StreamRecord): Promise<'applied' | 'skipped' | 'deadLettered'> {
    for (;;) {
      try {
        return await applier.apply(entry);
      } catch (error) {
        if (options.isUnavailable(error)) throw error;
        const failed = { streamId: entry.streamId, record: JSON.stringify(entry.record), error: describeError(error), at: now() };
        const noted = await deadLetters.noteFailure(partition, failed);
        if (noted.status === 'dead') {
          logger.error(
            { err: error, partition, streamId: entry.streamId, userId: entry.record.userId },
            'record failed too often: moved to the dead letters',
          );
          options.onDeadLetter?.({ partition, ...failed });
          return 'deadLettered';
        }
        logger.warn(
          { err: error, partition, streamId: entry.streamId, failures: noted.failures },
          'applying a record failed; trying it again',
        );
        await new Promise((resolve) => setTimeout(resolve, retryBaseMs * 2 ** (noted.failures - 1)));
      }
    }
  }

  return processJob('drain', DrainJobSchema, async ({ partition }, job) => {
    if (partition >= keys.eventPartitions)
      throw new UnrecoverableError(`drain job ${job.id} names partition ${partition} of ${keys.eventPartitions}`);
    const result: DrainResult = { applied: 0, skipped: 0, unreadable: 0, deadLettered: 0 };

    for (;;) {
      const entries = await stream.read(partition, { count: chunkSize });
      if (entries.length === 0) break;
      await options.beforeChunk?.();

      const readable: StreamRecord[] = [];
      for (const entry of entries) {
        if (entry.ok) {
          readable.push(entry);
          continue;
        }
        result.unreadable++;
        stats.unreadable++;
        logger.warn(
          { partition, streamId: entry.streamId, error: entry.error, raw: String(entry.raw).slice(0, 500) },
          'skipping an unreadable stream entry',
        );
      }
      const byUser = groupBy(readable, (entry) => entry.record.userId);

      // allSettled, not all: a failure must not leave other users' records being applied while the retry starts.
      const settled = await Promise.allSettled(
        [...byUser.values()].map(async (records) => {
          for (const entry of records) {
            const outcome = await applyRecord(partition, entry);
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
  });
}

export interface DrainWorkerOptions extends DrainProcessorOptions {
  connection: ConnectionOptions;
  /** Partitions drained at once by this process (over every drain queue). */
  concurrency: number;
  /** BullMQ job lock and stalled-check interval: see jobLockOptions. */
  lockMs: number;
}

export interface RunningDrainWorker {
  workers: WorkerGroup<unknown, DrainResult>;
  stats: DrainStats;
  /** Lets the active drains finish their chunk, then stops. */
  close(): Promise<void>;
}

export function startDrainWorker(options: DrainWorkerOptions): RunningDrainWorker {
  let closing = false;
  const stats: DrainStats = options.stats ?? { applied: 0, skipped: 0, unreadable: 0, deadLettered: 0 };
  const processor = createDrainProcessor({ ...options, stats, stopping: () => closing || (options.stopping?.() ?? false) });
  const workers = startWorkerGroup(options.keys.queues.drain, processor, {
    connection: options.connection,
    concurrency: options.concurrency,
    ...jobLockOptions(options.lockMs),
    logger: options.logger,
    what: 'drain',
  });
  workers.onFailed((job, error) => {
    const partition = DrainJobSchema.safeParse(job?.data).data?.partition;
    options.logger.error({ err: error, jobId: job?.id, partition, attemptsMade: job?.attemptsMade }, 'drain failed');
  });
  return {
    workers,
    stats,
    close: async () => {
      closing = true;
      await workers.close();
    },
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
