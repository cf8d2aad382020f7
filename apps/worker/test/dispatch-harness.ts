import { createLogger, readEnv } from '@journey/config';
import { exampleJourney, stepToken, type JourneyDefinitionInput, type RetryPolicy } from '@journey/core';
import { testServers, uniqueName } from '@journey/embedded/testing';
import { connectMongo, type MongoStore } from '@journey/mongo';
import { connectRedis, countJobs, type RedisClient } from '@journey/redis';
import { createStores } from '@journey/stores';
import { createWebhookChannel } from '@journey/webhook';
import { startBatchProcessor } from '../src/dispatch/batch-processor.js';
import type { DispatchDeps } from '../src/dispatch/dispatch-batch.js';
import { createJourneyCatalog } from '../src/dispatch/journey-catalog.js';
import { createScheduler } from '../src/dispatch/scheduler.js';
import { createWebhookDeliveries } from '../src/dispatch/webhook-deliveries.js';
import { WebhookSink } from '@journey/embedded/testing';

/** The contract's example journey, sending to `url` instead of the example's address. */
export function exampleSendingTo(url: string, change: (journey: JourneyDefinitionInput) => void = () => undefined): JourneyDefinitionInput {
  const journey: JourneyDefinitionInput = structuredClone(exampleJourney);
  for (const step of Object.values(journey.steps)) if (step.type === 'message') step.webhook.url = url;
  change(journey);
  return journey;
}

/**
 * Dispatch on the real servers with a clock the test moves: the scheduler, a BullMQ batch processor, the
 * webhook channel to a real HTTP sink, and the repositories, under a fresh key prefix and database.
 */
export async function dispatchHarness(options: {
  start: number;
  /** Where the dispatcher's MongoDB is (default the test run's): a fault test passes a proxy's address. */
  mongoUri?: string;
  retryPolicy?: RetryPolicy;
  /** The webhook channel's settings (default: attempts time out after 2 s, 20 connections per origin). */
  channel?: { attemptTimeoutMs?: number; maxConnectionsPerOrigin?: number };
}) {
  let clock = options.start;
  const now = () => clock;
  const servers = testServers();
  const mongoUri = options.mongoUri ?? servers.mongoUri;
  const mongo: MongoStore = await connectMongo(mongoUri, uniqueName('dispatch'));
  const redis: RedisClient = await connectRedis(servers.redis, 'blocking');
  const config = readEnv({ REDIS_PREFIX: uniqueName('d').replace(/[^A-Za-z0-9_-]/g, '_'), DUE_SHARDS: '2' });
  const logger = createLogger({ name: 'dispatch-test', level: (process.env.JOURNEY_TEST_LOG as 'info' | undefined) ?? 'silent' });
  const stores = createStores(config, { mongo, redis }, { now });
  await stores.ensureIndexes();
  const { keys, journeys, users, states, dueSchedule, branchLock, stats, dispatchQueue, activity, sendHistory, revision } = stores;
  const sink = await new WebhookSink().listen();
  const channel = createWebhookChannel({ now, attemptTimeoutMs: 2_000, ...options.channel });
  const deps: DispatchDeps = {
    ...stores,
    catalog: createJourneyCatalog(journeys, revision),
    deliveries: createWebhookDeliveries(channel, sendHistory),
    retryPolicy: options.retryPolicy ?? {
      windowMs: config.WEBHOOK_RETRY_WINDOW,
      baseDelayMs: config.WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
    },
    logger,
    now,
  };
  const scheduler = createScheduler({
    keys,
    dueSchedule,
    dispatchQueue,
    leases: stores.leases,
    logger,
    now,
    tickMs: config.SCHEDULER_TICK_MS,
    staleBatchMs: config.STALE_BATCH_MS,
  });
  const startWorker = () =>
    startBatchProcessor({ keys, dispatchQueue, connection: redis.duplicate(), concurrency: 4, lockMs: config.JOB_LOCK_MS, logger, deps });
  const workers = [startWorker()];

  /** Lifecycle changes tell the workers, as the API does (the journeys revision). */
  const announced =
    <A extends unknown[], R>(change: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await change(...args);
      await revision.bump();
      return result;
    };
  return {
    keys,
    sink,
    journeys: { ...journeys, pause: announced(journeys.pause), resume: announced(journeys.resume), archive: announced(journeys.archive) },
    users,
    states,
    sendHistory,
    revision,
    stats,
    dueSchedule,
    branchLock,
    dispatchQueue,
    activity,
    deps,
    /** The branch lock's raw value: the token, and the lease of the try holding it (`<token> <until> <try id>`). */
    lockValue: (journeyId: string, userId: string, entryId: string) => redis.get(keys.branchLock(journeyId, userId, entryId)),
    scheduler,
    now,
    advance(ms: number) {
      clock += ms;
    },
    /** Stops the batch processor (letting its jobs finish) and starts a new one: what a worker restart leaves. */
    async restartWorker(): Promise<void> {
      const stopping = workers.splice(0);
      await Promise.all(stopping.map((worker) => worker.close()));
      workers.push(startWorker());
    },
    /** A published journey from `definition`; returns its id. */
    async publish(definition: JourneyDefinitionInput): Promise<string> {
      const created = await journeys.create(definition as never);
      if (!created.ok) throw new Error(`journey not created: ${JSON.stringify(created)}`);
      const published = await journeys.publish(created.journey.id);
      if (!published.ok) throw new Error(`journey not published: ${JSON.stringify(published)}`);
      await revision.bump();
      return created.journey.id;
    },
    /** Enters a user as the ingest worker does: the state, then the first step due now. */
    async enter(journeyId: string, userId: string, attributes: Record<string, string> = {}, entryId = `e${userId}`) {
      await users.mergeAttributes(userId, attributes, new Date(clock));
      const definition = (await journeys.findPublishedVersion(journeyId, 1))!.definition;
      await states.enter({
        journeyId,
        userId,
        version: 1,
        entryId,
        stepId: definition.start,
        token: stepToken(0),
        trigger: { name: 'signed_up', properties: {} },
        now: new Date(clock),
      });
      await dueSchedule.schedule({ journeyId, version: 1, stepId: definition.start }, Math.floor(clock / 1000), [
        { userId, entryId, expectedToken: '', ownToken: stepToken(0) },
      ]);
      return entryId;
    },
    /** Runs scheduler passes until no batch is waiting or running (the batch processor works meanwhile). */
    async settle(): Promise<void> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        await scheduler.tick();
        const counts = await countJobs(dispatchQueue.queues, 'waiting', 'active', 'delayed', 'prioritized');
        const busy = Object.values(counts).some((n) => n > 0);
        const backlog = await Promise.all([0, 1].map((shard) => dueSchedule.backlog(shard)));
        const due = backlog.some(
          (b) => b.unfinishedBatches > 0 || (b.oldestDueSecond !== null && b.oldestDueSecond <= Math.floor(clock / 1000)),
        );
        if (!busy && !due) return;
        if (Date.now() > deadline) throw new Error(`dispatch did not settle: ${JSON.stringify({ counts, backlog })}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    bodies(): Array<{ stepId: string; userId: string; payload: { text: string }; messageId: string }> {
      return sink.requests.map((request) => JSON.parse(request.body));
    },
    mongo,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await scheduler.stop();
      await channel.close();
      await sink.close();
      for (const queue of dispatchQueue.queues) await queue.obliterate({ force: true });
      await stores.close();
      await mongo.db.dropDatabase();
      await mongo.close();
      await redis.quit();
    },
  };
}
