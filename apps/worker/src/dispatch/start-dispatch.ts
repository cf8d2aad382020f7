import { createJourneysRepository, createJourneyStatesRepository, createUsersRepository } from '@journey/mongo';
import {
  createBranchLock,
  createDispatchQueue,
  createDueSchedule,
  createJourneysRevision,
  createKeys,
  createOpsActivity,
  createSendHistory,
  createStats,
  createSubscriptions,
  type Keys,
  type OpsFailure,
} from '@journey/redis';
import type { RetryPolicy } from '@journey/core';
import { createWebhookChannel, type WebhookChannelOptions } from '../channels/webhook.js';
import type { WorkerDeps } from '../processors.js';
import { startBatchProcessor } from './batch-processor.js';
import { createJourneyCatalog } from './journey-catalog.js';
import { createScheduler } from './scheduler.js';
import { createWebhookDeliveries } from './webhook-deliveries.js';

/** Knobs with production defaults; tests set the clock and the intervals. */
export interface DispatchOptions {
  keys?: Keys;
  now?: () => number;
  schedulerTickMs?: number;
  staleBatchMs?: number;
  /** BullMQ job lock and stalled-check interval of the batch processor (default BullMQ's 30 s). */
  jobLockMs?: number;
  webhook?: WebhookChannelOptions;
  retryPolicy?: RetryPolicy;
}

export interface RunningDispatch {
  names: string[];
  close(): Promise<void>;
}

/**
 * Dispatch in one worker process: the scheduler that carves due sets into batches (every process runs one:
 * carving is atomic, so they share the work), and the batch processor that sends and moves users on.
 */
export async function startDispatch(deps: WorkerDeps, options: DispatchOptions = {}): Promise<RunningDispatch> {
  const { config, logger, mongo, redis } = deps;
  const keys = options.keys ?? createKeys(config.REDIS_PREFIX);
  const now = options.now ?? Date.now;

  // The members of a batch ask Redis the same things at the same moment (lock, mutes, send history): on a connection
  // of their own with auto-pipelining, what they ask within one tick is one write and one read, not one per member.
  const commands = redis.duplicate({ enableAutoPipelining: true, connectionName: 'journey-dispatch' });
  commands.on('error', () => undefined);
  const dueSchedule = createDueSchedule(commands, keys);
  const dispatchQueue = createDispatchQueue(redis, keys);
  const channel = createWebhookChannel({ now, ...options.webhook });
  const activity = createOpsActivity(commands, keys);
  // Failures go to the operators' list best effort: a Redis hiccup there must not fail a send or a batch.
  const recordFailure = (failure: OpsFailure) =>
    void activity.recordFailure(failure).catch((err: unknown) => logger.warn({ err }, 'could not record a failure for ops'));
  const scheduler = createScheduler({
    keys,
    dueSchedule,
    dispatchQueue,
    logger,
    now,
    ...(options.schedulerTickMs === undefined ? {} : { tickMs: options.schedulerTickMs }),
    ...(options.staleBatchMs === undefined ? {} : { staleBatchMs: options.staleBatchMs }),
  });
  const processor = startBatchProcessor({
    keys,
    dispatchQueue,
    connection: redis,
    concurrency: config.WORKER_CONCURRENCY,
    ...(options.jobLockMs === undefined ? {} : { lockMs: options.jobLockMs }),
    deps: {
      dueSchedule,
      branchLock: createBranchLock(commands, keys),
      stats: createStats(commands, keys),
      subscriptions: createSubscriptions(commands, keys),
      users: createUsersRepository(mongo.db),
      states: createJourneyStatesRepository(mongo.db),
      catalog: createJourneyCatalog(createJourneysRepository(mongo.db, { now }), createJourneysRevision(commands, keys), { now }),
      deliveries: createWebhookDeliveries(channel, createSendHistory(commands, keys)),
      ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy }),
      // Reading, one attempt (its timeout) and noting the answer fit in it with room to spare.
      sendLeaseMs: Math.max(15_000, 3 * (options.webhook?.attemptTimeoutMs ?? 10_000)),
      onFailure: recordFailure,
      activity,
      logger,
      now,
    },
  });
  processor.on('failed', (job, error) => {
    logger.warn({ jobId: job?.id, err: error }, 'dispatch batch failed; BullMQ retries it');
    recordFailure({ at: now(), source: 'dispatch', reason: error.message, ...(job?.id ? { jobId: job.id } : {}) });
  });
  scheduler.start();

  return {
    names: ['scheduler', 'dispatch'],
    close: async () => {
      await scheduler.stop();
      await processor.close();
      await channel.close();
      await dispatchQueue.close();
      commands.disconnect();
    },
  };
}
