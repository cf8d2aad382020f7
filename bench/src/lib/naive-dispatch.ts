import type { RedisTarget } from '@journey/config';
import { createJourneyStatesRepository, createUsersRepository, type MongoStore } from '@journey/mongo';
import { connectRedis, createBranchLock, createSendHistory, DISPATCH_JOB_OPTIONS, type Keys, type RedisClient } from '@journey/redis';
import { compileString, messageId, newRenderBudget, stepToken } from '@journey/core';
import { Queue, Worker } from 'bullmq';
import { Agent, request } from 'undici';
import { sentRecord, type PublishedJourney } from './bench-journey.js';
import { benchUser } from './users.js';
import { inChunks } from './progress.js';

const firstName = compileString('{{user.firstName}}', 'payload.text');

/** The lock TTL the engine's dispatcher uses for an entry's next step (7 days). */
const LOCK_TTL_MS = 7 * 24 * 60 * 60 * 1000;

interface NaiveJob {
  userId: string;
  entryId: string;
}

/**
 * The naive design: one BullMQ job per user, delayed to its due second. Its worker does for each user what the
 * engine's dispatcher does for a member, one user at a time: takes the same branch lock, reads the user's state and
 * attributes (one findOne each: the engine reads them per batch, to check the entry and its messages and to render
 * the payload), posts the same webhook body (undici, `connections` sockets), notes the send in the user's send
 * history, and writes that user's state and message with one MongoDB update of one statement: the very conditional
 * commit the engine sends in bulk; then releases the lock, as the engine does for an ended entry.
 */
export function createNaiveDesign(options: {
  redis: RedisClient;
  redisTarget: RedisTarget;
  mongo: MongoStore;
  keys: Keys;
  journey: PublishedJourney;
  sinkUrl: string;
  concurrency: number;
}) {
  const { redis, mongo, keys, journey } = options;
  const queueName = `{${keys.prefix}-naive}`;
  // Retried and kept as the engine's dispatch jobs are.
  const queue = new Queue<NaiveJob>(queueName, { connection: redis, defaultJobOptions: DISPATCH_JOB_OPTIONS });
  const states = createJourneyStatesRepository(mongo.db);
  const users = createUsersRepository(mongo.db);
  const branchLock = createBranchLock(redis, keys);
  const history = createSendHistory(redis, keys);
  const agent = new Agent({ connections: options.concurrency });
  const stepId = journey.definition.start;
  const ownToken = stepToken(0);
  let worker: Worker<NaiveJob> | undefined;
  let workerRedis: RedisClient | undefined;
  let failures = 0;

  return {
    queue,
    failures: () => failures,
    /** One delayed job per user, added with addBulk in chunks of 1,000. */
    async schedule(n: number, dueSecond: number): Promise<number> {
      return inChunks('naive: adding one job per user', n, 1_000, async (first, end) => {
        const delay = Math.max(0, dueSecond * 1000 - Date.now());
        const jobs = [];
        for (let index = first; index < end; index++)
          jobs.push({ name: 'user', data: benchUser(journey.journeyId, index), opts: { delay } });
        await queue.addBulk(jobs);
      });
    },
    async start(): Promise<void> {
      workerRedis = await connectRedis(options.redisTarget, 'blocking');
      worker = new Worker<NaiveJob>(
        queueName,
        async (job) => {
          const { userId, entryId } = job.data;
          const target = { journeyId: journey.journeyId, userId, entryId };
          const lock = await branchLock.take(target, { expectedToken: '', ownToken }, LOCK_TTL_MS);
          if (lock.status === 'lost') return;
          const [state, user] = await Promise.all([states.get(journey.journeyId, userId), users.get(userId)]);
          if (!state || state.entryId !== entryId || state.status !== 'active' || state.messages[stepId]) return;
          const id = messageId(journey.journeyId, userId, entryId, stepId);
          const response = await request(options.sinkUrl, {
            dispatcher: agent,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': id },
            body: JSON.stringify({
              messageId: id,
              journeyId: journey.journeyId,
              version: journey.version,
              stepId,
              branchId: null,
              userId,
              entryId,
              payload: { text: `Hello ${firstName({ user: user?.attributes ?? {} }, newRenderBudget())}` },
            }),
          });
          await response.body.dump();
          if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`sink answered ${response.statusCode}`);
          const now = Date.now();
          await history.note(userId, id, now);
          const record = sentRecord(ownToken, now);
          const message = { stepId, record };
          // One user's commit alone: one `update` command of one statement.
          await states.commitEach([
            {
              key: ownToken,
              journeyId: journey.journeyId,
              userId,
              entryId,
              expectedToken: ownToken,
              token: ownToken,
              stepId: null,
              status: 'completed',
              message,
              now,
            },
          ]);
          // As the engine does once an entry's end is committed: Redis keeps locks of live entries only.
          await branchLock.release(target, ownToken);
        },
        { connection: workerRedis, concurrency: options.concurrency, autorun: true },
      );
      worker.on('failed', () => failures++);
      await worker.waitUntilReady();
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await agent.close();
      workerRedis?.disconnect();
    },
  };
}
