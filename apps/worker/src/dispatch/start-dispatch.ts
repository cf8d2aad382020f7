import { webhookRetryPolicy } from '@journey/config';
import { duplicateRedis, type OpsFailure } from '@journey/redis';
import { createStores } from '@journey/stores';
import { createWebhookChannel } from '@journey/webhook';
import type { WorkerDeps } from '../processors.js';
import { startBatchProcessor } from './batch-processor.js';
import { createJourneyCatalog } from './journey-catalog.js';
import { createScheduler } from './scheduler.js';
import { createWebhookDeliveries } from './webhook-deliveries.js';

export interface RunningDispatch {
  names: string[];
  close(): Promise<void>;
}

/**
 * Dispatch in one worker process: the scheduler that carves due sets into batches (every process runs one; they
 * share the shards out, each carved by one of them at a time), and the batch processor that sends and moves users on.
 * Every knob comes from the configuration.
 */
export async function startDispatch(deps: WorkerDeps): Promise<RunningDispatch> {
  const { config, logger, mongo, redis } = deps;
  const now = deps.now ?? Date.now;
  const onQueueError = (err: Error) => logger.debug({ err }, 'dispatch queue connection error');
  const stores = createStores(config, { mongo, redis }, { now, onQueueError });
  // The members of a batch ask Redis the same things at the same moment (lock, mutes, send history): on a connection
  // of their own with auto-pipelining, what they ask within one tick is one write and one read, not one per member.
  const commands = duplicateRedis(redis, { enableAutoPipelining: true, connectionName: 'journey-dispatch' });
  const pipelined = createStores(config, { mongo, redis: commands }, { now, onQueueError });

  const channel = createWebhookChannel({ now, attemptTimeoutMs: config.WEBHOOK_ATTEMPT_TIMEOUT_MS });
  // Failures go to the operators' list best effort: a Redis hiccup there must not fail a send or a batch.
  const recordFailure = (failure: OpsFailure) =>
    void pipelined.activity.recordFailure(failure).catch((err: unknown) => logger.warn({ err }, 'could not record a failure for ops'));
  const scheduler = createScheduler({
    keys: stores.keys,
    dueSchedule: pipelined.dueSchedule,
    dispatchQueue: stores.dispatchQueue,
    leases: pipelined.leases,
    logger,
    now,
    tickMs: config.SCHEDULER_TICK_MS,
    staleBatchMs: config.STALE_BATCH_MS,
  });
  const processor = startBatchProcessor({
    keys: stores.keys,
    dispatchQueue: stores.dispatchQueue,
    connection: redis,
    concurrency: config.WORKER_CONCURRENCY,
    lockMs: config.JOB_LOCK_MS,
    logger,
    deps: {
      ...pipelined,
      catalog: createJourneyCatalog(stores.journeys, pipelined.revision, { now }),
      deliveries: createWebhookDeliveries(channel, pipelined.sendHistory),
      retryPolicy: webhookRetryPolicy(config),
      // Reading, one attempt (its timeout) and noting the answer fit in it with room to spare.
      sendLeaseMs: Math.max(15_000, 3 * config.WEBHOOK_ATTEMPT_TIMEOUT_MS),
      onFailure: recordFailure,
      logger,
      now,
    },
  });
  processor.onFailed((job, error) => {
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
      await Promise.all([stores.close(), pipelined.close()]);
      commands.disconnect();
    },
  };
}
