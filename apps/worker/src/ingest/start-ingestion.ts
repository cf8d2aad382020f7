import { isMongoUnavailableError } from '@journey/mongo';
import { isRedisUnavailableError, type Keys } from '@journey/redis';
import { createStores } from '@journey/stores';
import { startScheduleTriggerCheck, startScheduleWorker } from '../entry/schedule-trigger.js';
import type { WorkerDeps } from '../processors.js';
import { createActiveJourneys, type ActiveJourneys } from './active-journeys.js';
import { createRecordApplier } from './apply-record.js';
import { startDrainWorker, type DrainStats } from './drain-processor.js';
import { startSweeper } from './sweeper.js';

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
 * Every knob comes from the configuration.
 */
export async function startIngestion(deps: WorkerDeps): Promise<RunningIngestion> {
  const { config, logger, mongo, redis } = deps;
  const now = deps.now ?? Date.now;
  const stores = createStores(
    config,
    { mongo, redis },
    { now, onQueueError: (err) => logger.debug({ err }, 'ingestion queue connection error') },
  );
  await stores.ensureIndexes();
  const journeys = createActiveJourneys(stores.journeys, stores.revision, {
    onUnreadable: (journeyId, version, err) =>
      logger.error({ err, journeyId, version }, 'an active journey cannot be read: it takes no entries'),
  });

  const applier = createRecordApplier({ ...stores, journeys, logger, now });
  const drain = startDrainWorker({
    keys: stores.keys,
    connection: redis,
    concurrency: config.WORKER_CONCURRENCY,
    lockMs: config.JOB_LOCK_MS,
    stream: stores.events,
    applier,
    logger,
    drainQueue: stores.drainQueue,
    now,
    deadLetters: stores.deadLetters,
    isUnavailable: (error) => isMongoUnavailableError(error) || isRedisUnavailableError(error),
    beforeChunk: () => journeys.refresh(),
    onDeadLetter: (letter) =>
      void stores.activity
        .recordFailure({ at: letter.at, source: 'drain', reason: `dead letter ${letter.streamId}: ${letter.error}`.slice(0, 1_000) })
        .catch((err: unknown) => logger.warn({ err }, 'could not record a failure for ops')),
  });
  const schedule = startScheduleWorker({
    ...stores,
    connection: redis,
    concurrency: config.WORKER_CONCURRENCY,
    lockMs: config.JOB_LOCK_MS,
    logger,
    now,
  });
  const sweeper = startSweeper({
    stream: stores.events,
    drainQueue: stores.drainQueue,
    leases: stores.leases,
    lease: stores.keys.sweeperLease(),
    logger,
    intervalMs: config.SWEEP_INTERVAL_MS,
  });
  const scheduleCheck = startScheduleTriggerCheck({
    journeys,
    scheduleQueue: stores.scheduleQueue,
    logger,
    now,
    intervalMs: config.SCHEDULE_CHECK_INTERVAL_MS,
  });

  return {
    names: ['drain', 'sweeper', 'schedule', 'schedule-check'],
    keys: stores.keys,
    journeys,
    drainStats: drain.stats,
    close: async () => {
      await Promise.allSettled([sweeper.stop(), scheduleCheck.stop()]);
      await Promise.allSettled([drain.close(), schedule.close()]);
      await stores.close();
    },
  };
}
