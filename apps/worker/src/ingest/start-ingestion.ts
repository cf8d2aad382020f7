import { createJourneyStatesRepository, createJourneysRepository, createUsersRepository, isMongoUnavailableError } from '@journey/mongo';
import {
  createBranchLock,
  createDeadLetters,
  createDrainQueue,
  createDueSchedule,
  createEventsStream,
  createJourneysRevision,
  createKeys,
  createOpsActivity,
  createScheduleQueue,
  createStats,
  isRedisUnavailableError,
  type Keys,
} from '@journey/redis';
import { startScheduleTriggerCheck, startScheduleWorker } from '../entry/schedule-trigger.js';
import type { WorkerDeps } from '../processors.js';
import { createActiveJourneys, type ActiveJourneys, type ActiveJourneysOptions } from './active-journeys.js';
import { createRecordApplier } from './apply-record.js';
import { startDrainWorker, type AppliedRecord, type DrainStats } from './drain-processor.js';
import { startSweeper } from './sweeper.js';

/** Knobs with production defaults; tests set the clock and the intervals. */
export interface IngestionOptions {
  keys?: Keys;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  activeJourneys?: ActiveJourneysOptions;
  sweepIntervalMs?: number;
  scheduleCheckIntervalMs?: number;
  drainChunkSize?: number;
  schedulePageSize?: number;
  exitSealTtlMs?: number;
  onApplied?: (applied: AppliedRecord) => void;
  /** BullMQ job lock and stalled-check interval of the drain and schedule workers (default BullMQ's 30 s). */
  jobLockMs?: number;
}

export interface RunningIngestion {
  /** Processor names, for the start-up log. */
  names: string[];
  keys: Keys;
  journeys: ActiveJourneys;
  drainStats: DrainStats;
  /** Stops the timers, lets active drains and schedule runs finish, then closes the queues. */
  close(): Promise<void>;
}

/**
 * Ingestion and entry in one worker process: the drain workers of the event partitions, the sweeper that
 * requests drains for partitions holding records, the schedule-trigger runs, and the check that adds missing runs.
 */
export async function startIngestion(deps: WorkerDeps, options: IngestionOptions = {}): Promise<RunningIngestion> {
  const { config, logger, mongo, redis } = deps;
  const keys = options.keys ?? createKeys(config.REDIS_PREFIX);
  const now = options.now ?? Date.now;
  const concurrency = config.WORKER_CONCURRENCY;

  const users = createUsersRepository(mongo.db);
  const states = createJourneyStatesRepository(mongo.db);
  await states.ensureIndexes();
  const journeys = createActiveJourneys(createJourneysRepository(mongo.db, { now }), createJourneysRevision(redis, keys), {
    onUnreadable: (journeyId, version, err) => logger.error({ err, journeyId, version }, 'an active journey cannot be read: it takes no entries'),
    ...options.activeJourneys,
  });
  const activity = createOpsActivity(redis, keys);
  const stream = createEventsStream(redis, keys);
  const dueSchedule = createDueSchedule(redis, keys);
  const drainQueue = createDrainQueue(redis, keys);
  const scheduleQueue = createScheduleQueue(redis, keys, { now });

  const applier = createRecordApplier({
    users,
    states,
    journeys,
    dueSchedule,
    branchLock: createBranchLock(redis, keys),
    stats: createStats(redis, keys),
    logger,
    now,
    ...(options.exitSealTtlMs === undefined ? {} : { exitSealTtlMs: options.exitSealTtlMs }),
  });
  const drain = startDrainWorker({
    keys,
    connection: redis,
    concurrency,
    stream,
    applier,
    logger,
    drainQueue,
    now,
    deadLetters: createDeadLetters(redis, keys),
    isUnavailable: (error) => isMongoUnavailableError(error) || isRedisUnavailableError(error),
    beforeChunk: () => journeys.refresh(),
    onDeadLetter: (letter) =>
      void activity
        .recordFailure({ at: letter.at, source: 'drain', reason: `dead letter ${letter.streamId}: ${letter.error}`.slice(0, 1_000) })
        .catch((err: unknown) => logger.warn({ err }, 'could not record a failure for ops')),
    ...(options.jobLockMs === undefined ? {} : { lockMs: options.jobLockMs }),
    ...(options.drainChunkSize === undefined ? {} : { chunkSize: options.drainChunkSize }),
    ...(options.onApplied === undefined ? {} : { onApplied: options.onApplied }),
  });
  const schedule = startScheduleWorker({
    keys,
    connection: redis,
    concurrency,
    journeys: createJourneysRepository(mongo.db, { now }),
    users,
    states,
    dueSchedule,
    logger,
    now,
    ...(options.jobLockMs === undefined ? {} : { lockMs: options.jobLockMs }),
    ...(options.schedulePageSize === undefined ? {} : { pageSize: options.schedulePageSize }),
  });
  const sweeper = startSweeper({ stream, drainQueue, logger, ...(options.sweepIntervalMs === undefined ? {} : { intervalMs: options.sweepIntervalMs }) });
  const scheduleCheck = startScheduleTriggerCheck({
    journeys,
    scheduleQueue,
    logger,
    ...(options.scheduleCheckIntervalMs === undefined ? {} : { intervalMs: options.scheduleCheckIntervalMs }),
  });

  return {
    names: ['drain', 'sweeper', 'schedule', 'schedule-check'],
    keys,
    journeys,
    drainStats: drain.stats,
    close: async () => {
      await Promise.allSettled([sweeper.stop(), scheduleCheck.stop()]);
      await Promise.allSettled([drain.close(), schedule.close()]);
      await Promise.allSettled([drainQueue.close(), scheduleQueue.close()]);
    },
  };
}
