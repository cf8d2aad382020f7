import { readFileSync } from 'node:fs';
import { buildApp } from '@journey/api';
import { createLogger, readEnv, redisEnv, type Config, type Logger } from '@journey/config';
import { eventually, testServers, uniqueName } from '@journey/embedded/testing';
import { connectMongo, type MongoStore } from '@journey/mongo';
import {
  connectRedis,
  createDrainQueue,
  createDueSchedule,
  createEventsStream,
  createKeys,
  createScheduleQueue,
  deleteMatching,
  type DrainQueue,
  type Keys,
  type RedisClient,
} from '@journey/redis';
import { startDispatch, type RunningDispatch } from '../src/dispatch/start-dispatch.js';
import { startIngestion, type RunningIngestion } from '../src/ingest/start-ingestion.js';
import type { WorkerDeps } from '../src/processors.js';
import { WebhookSink } from '@journey/embedded/testing';

/**
 * End-to-end tests over HTTP on the real servers: one API app (driven with `inject`, the admin key from its
 * config) and the worker's ingestion and dispatch, as `startProcessors` wires them, sharing one Redis prefix and
 * one MongoDB database of their own; webhooks go to a real HTTP sink.
 *
 * Time: the workers run on a clock the test moves. It starts at 12:00 UTC of today (within 12 hours of real
 * time), so the contract example's quiet hours (22:00-08:00 UTC) never defer a send because of the hour the
 * suite happens to run at. The API takes event times from Date.now, so tests send explicit `time`s (`event`).
 */

export type App = Awaited<ReturnType<typeof buildApp>>;

export const E2E_ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';

/** The contract's example journey, read from docs/product.md itself (its first JSON block): the document a client sends. */
export function contractExample(): Record<string, unknown> {
  const contract = readFileSync(new URL('../../../docs/product.md', import.meta.url), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(contract)?.[1];
  if (block === undefined) throw new Error('docs/product.md has no JSON example journey');
  return JSON.parse(block) as Record<string, unknown>;
}

/** `definition` with every message step sending to `url`. */
export function sendingTo<T extends Record<string, unknown>>(definition: T, url: string): T {
  const copy = structuredClone(definition);
  for (const step of Object.values(copy['steps'] as Record<string, Record<string, unknown>>)) {
    if (step['type'] === 'message') step['webhook'] = { url };
  }
  return copy;
}

/** A message step's JSON, for small test journeys. */
export function message(text: string, next: string | null, messageType = 'onboarding'): Record<string, unknown> {
  return { type: 'message', channel: 'webhook', messageType, webhook: { url: 'http://127.0.0.1:9/unset' }, payload: { text }, next };
}

/** The contract's webhook body, as the sink received it. */
export interface Delivered {
  messageId: string;
  journeyId: string;
  version: number;
  stepId: string;
  branchId: string | null;
  userId: string;
  entryId: string;
  payload: { text?: string };
}

export interface UserJourneyState {
  journeyId: string;
  version: number;
  entryId: string;
  status: 'active' | 'completed' | 'exited';
  stepId: string | null;
  entries: number;
}

type Counters = Record<'entered' | 'sent' | 'skipped' | 'exited' | 'converted' | 'failed', number>;
export interface StepStats {
  counters: Counters;
  branches: Record<string, Counters>;
}

export interface E2eEnv {
  app: App;
  sink: WebhookSink;
  keys: Keys;
  now(): number;
  advance(ms: number): void;
  /** An event at the clock's time, as an app posts it. */
  event(userId: string, name: string, properties?: Record<string, unknown>, id?: string): Record<string, unknown>;
  /** A request with the admin key; throws unless the answer has `status`, returns the JSON body. */
  call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, status?: number): Promise<T>;
  /** Creates and publishes a journey over HTTP; returns its id. */
  publish(definition: Record<string, unknown>): Promise<string>;
  /** The worker process's MongoDB database (for a test that must put the store in a state no API call makes). */
  workerDb(): MongoStore['db'];
  putUser(userId: string, attributes: Record<string, unknown>): Promise<void>;
  postEvents(events: Record<string, unknown>[]): Promise<{ accepted: number; duplicates: number; rejected: unknown[] }>;
  /** The user's state in the journey from `GET /v1/users/:id` (undefined: never entered, or no such user). */
  journeyState(userId: string, journeyId: string): Promise<UserJourneyState | undefined>;
  /** Version 1's counters per step from `GET /v1/journeys/:id/stats`. */
  stats(journeyId: string): Promise<Record<string, StepStats>>;
  /** The BullMQ state of the run of version 1's schedule trigger at `at` (null until the worker added it). */
  scheduleRunState(journeyId: string, at: number): Promise<string | null>;
  /** The queue of drain requests (the API's and the sweeper's). */
  drainQueue(): DrainQueue;
  /** Everything the sink received, in arrival order. */
  delivered(): Delivered[];
  /** The `payload.text` of what `userId` received, in arrival order. */
  textsOf(userId: string): string[];
  startIngestion(): Promise<void>;
  startDispatch(): Promise<void>;
  startWorkers(): Promise<void>;
  /** Waits until every accepted record is applied (the event partitions are empty). */
  settleIngestion(): Promise<void>;
  /** Waits until every record is applied and everything due by the clock is dispatched. */
  settle(): Promise<void>;
  /** Stops the workers (active jobs finish); they may be started again. */
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Twelve o'clock UTC of today, in epoch ms (see the header). */
function middayToday(): number {
  const today = new Date();
  return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 12);
}

export async function e2eEnv(): Promise<E2eEnv> {
  const { redis: target, mongoUri } = testServers();
  const prefix = uniqueName('e2e');
  const config: Config = {
    // The workers look for work often and give up on a silent receiver soon: tests wait less.
    ...readEnv({
      ADMIN_API_KEY: E2E_ADMIN_KEY,
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: prefix,
      WORKER_CONCURRENCY: '4',
      SCHEDULER_TICK_MS: '20',
      SWEEP_INTERVAL_MS: '50',
      SCHEDULE_CHECK_INTERVAL_MS: '50',
      WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000',
      ...redisEnv(target),
    }),
    MONGODB_URI: mongoUri,
    MONGODB_DB: uniqueName('e2e'),
  };
  const logger: Logger = createLogger({
    name: 'e2e',
    level: (process.env['E2E_LOG_LEVEL'] as Config['LOG_LEVEL'] | undefined) ?? 'silent',
  });
  let clock = middayToday();
  const now = () => clock;

  // The API process: its own connections.
  const apiMongo: MongoStore = await connectMongo(mongoUri, config.MONGODB_DB);
  const apiRedis: RedisClient = await connectRedis(target, 'command');
  const app = await buildApp({ config, logger, mongo: apiMongo, redis: apiRedis });
  // The worker process: its own connections, as in main.ts.
  const workerMongo: MongoStore = await connectMongo(mongoUri, config.MONGODB_DB);
  const workerRedis: RedisClient = await connectRedis(target, 'blocking');
  const workerDeps: WorkerDeps = { config, logger, mongo: workerMongo, redis: workerRedis, now };
  const keys = createKeys(prefix);
  const stream = createEventsStream(apiRedis, keys);
  const dueSchedule = createDueSchedule(apiRedis, keys);
  const scheduleQueue = createScheduleQueue(apiRedis, keys);
  const drainQueue = createDrainQueue(apiRedis, keys);
  const sink = await new WebhookSink().listen();

  let ingestion: RunningIngestion | undefined;
  let dispatch: RunningDispatch | undefined;
  const auth = { authorization: `Bearer ${E2E_ADMIN_KEY}` };

  async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, status?: number): Promise<T> {
    const response = await app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    const expected = status ?? (method === 'POST' && url === '/v1/journeys' ? 201 : method === 'POST' && url === '/v1/events' ? 202 : 200);
    if (response.statusCode !== expected)
      throw new Error(`${method} ${url}: expected ${expected}, got ${response.statusCode} ${response.body}`);
    return (response.body === '' ? undefined : response.json<T>()) as T;
  }

  async function eventsPending(): Promise<boolean> {
    return (await stream.lengths()).some((length) => length > 0);
  }

  async function dueWork(): Promise<boolean> {
    const nowSecond = Math.floor(clock / 1000);
    const backlogs = await Promise.all(Array.from({ length: keys.dueShards }, (_, shard) => dueSchedule.backlog(shard)));
    return backlogs.some(
      (backlog) => backlog.unfinishedBatches > 0 || (backlog.oldestDueSecond !== null && backlog.oldestDueSecond <= nowSecond),
    );
  }

  const env: E2eEnv = {
    app,
    sink,
    keys,
    now,
    advance(ms) {
      clock += ms;
    },
    event(userId, name, properties = {}, id) {
      return { ...(id === undefined ? {} : { id }), userId, name, time: new Date(clock).toISOString(), properties };
    },
    call,
    async publish(definition) {
      const { id } = await call<{ id: string }>('POST', '/v1/journeys', definition);
      await call('POST', `/v1/journeys/${id}/publish`);
      return id;
    },
    workerDb: () => workerMongo.db,
    async putUser(userId, attributes) {
      await call('PUT', `/v1/users/${encodeURIComponent(userId)}`, { attributes });
    },
    postEvents: (events) => call('POST', '/v1/events', { events }),
    async journeyState(userId, journeyId) {
      const response = await app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(userId)}`, headers: auth });
      if (response.statusCode === 404) return undefined;
      if (response.statusCode !== 200) throw new Error(`GET user ${userId}: ${response.statusCode} ${response.body}`);
      return response.json<{ journeys: UserJourneyState[] }>().journeys.find((state) => state.journeyId === journeyId);
    },
    async stats(journeyId) {
      const body = await call<{ versions: Array<{ version: number; steps: Record<string, StepStats> }> }>(
        'GET',
        `/v1/journeys/${journeyId}/stats`,
      );
      return body.versions.find((each) => each.version === 1)?.steps ?? {};
    },
    async scheduleRunState(journeyId, at) {
      const job = await scheduleQueue.queue.getJob(keys.scheduleJobId(journeyId, 1, at));
      return job ? job.getState() : null;
    },
    drainQueue: () => drainQueue,
    delivered: () => sink.bodies() as Delivered[],
    textsOf: (userId) => env.delivered().flatMap((body) => (body.userId === userId ? [body.payload.text ?? ''] : [])),
    async startIngestion() {
      ingestion ??= await startIngestion(workerDeps);
    },
    async startDispatch() {
      dispatch ??= await startDispatch(workerDeps);
    },
    async startWorkers() {
      await env.startIngestion();
      await env.startDispatch();
    },
    async settleIngestion() {
      await eventually(async () => !(await eventsPending()), { what: 'every accepted record applied' });
    },
    async settle() {
      await eventually(async () => !(await eventsPending()) && !(await dueWork()), { what: 'the engine to settle' });
    },
    async stopWorkers() {
      const running = [ingestion?.close() ?? Promise.resolve(), dispatch?.close() ?? Promise.resolve()];
      ingestion = undefined;
      dispatch = undefined;
      await Promise.all(running);
    },
    async close() {
      await env.stopWorkers();
      await app.close();
      await Promise.all([scheduleQueue.close(), drainQueue.close()]);
      await sink.close();
      await apiMongo.db.dropDatabase().catch(() => undefined);
      await Promise.allSettled([apiMongo.close(), workerMongo.close()]);
      await deleteKeys(apiRedis, prefix);
      apiRedis.disconnect();
      workerRedis.disconnect();
    },
  };
  return env;
}

/** Every key of this environment: its prefix is unique to it (see uniqueName). */
async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  await deleteMatching(redis, `*${prefix}*`);
}
