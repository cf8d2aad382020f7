import { createLogger, readEnv, redisEnv, type Config } from '@journey/config';
import { validateJourney, type IngestRecord, type JourneyDefinitionInput } from '@journey/core';
import { testServers, uniqueName } from '@journey/embedded/testing';
import { connectMongo, type JourneysRepository, type JourneyStatesRepository, type MongoStore, type UsersRepository } from '@journey/mongo';
import {
  connectRedis,
  type BranchLock,
  type DeadLetters,
  type DueBranch,
  type DueSchedule,
  type EventsStream,
  type JourneysRevision,
  type Keys,
  type Stats,
  type RedisClient,
} from '@journey/redis';
import { createStores } from '@journey/stores';
import { createActiveJourneys, type ActiveJourneys } from '../src/ingest/active-journeys.js';
import { createRecordApplier, type RecordApplier, type StreamRecord } from '../src/ingest/apply-record.js';

export const T0 = Date.parse('2026-11-22T10:00:00Z');
export const silentLogger = createLogger({ name: 'worker-test', level: 'silent' });

/** A clock that only moves when a test moves it. */
export interface TestClock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function testClock(start = T0): TestClock {
  let current = start;
  return { now: () => current, set: (ms) => (current = ms), advance: (ms) => (current += ms) };
}

/** Everything one test needs, on the real servers, under its own key prefix and database. */
export interface IngestEnv {
  keys: Keys;
  redis: RedisClient;
  blocking: RedisClient;
  mongo: MongoStore;
  config: Config;
  clock: TestClock;
  users: UsersRepository;
  states: JourneyStatesRepository;
  journeysRepo: JourneysRepository;
  /** Bumped by `publish` as the API does; tests that change a journey through `journeysRepo` bump it themselves. */
  revision: JourneysRevision;
  journeys: ActiveJourneys;
  stream: EventsStream;
  stats: Stats;
  deadLetters: DeadLetters;
  dueSchedule: DueSchedule;
  lock: BranchLock;
  /** Erases a user up to a record, as the drain does for an `erase` record. */
  erase: (userId: string, upToRecord: string) => Promise<void>;
  /** Applies one record as a drain applies a chunk of one: the journeys catch up first. */
  applier: RecordApplier;
  /** Appends a record to its partition's stream (as the API does) and returns it with its stream id. */
  append(record: IngestRecord): Promise<StreamRecord>;
  /** Creates and publishes a journey; returns its id. */
  publish(definition: JourneyDefinitionInput | Record<string, unknown>): Promise<string>;
  /** The members of a due set (shard from the user id). */
  dueMembers(userId: string, branch: DueBranch, dueSecond: number): Promise<string[]>;
  /** The due set's score in its shard's index, or null. */
  dueIndexScore(userId: string, branch: DueBranch, dueSecond: number): Promise<number | null>;
  close(): Promise<void>;
}

export async function ingestEnv(options: { partitions?: number } = {}): Promise<IngestEnv> {
  const { redis: target, mongoUri } = testServers();
  const prefix = uniqueName('w').replace(/[^A-Za-z0-9_-]/g, '_');
  const redis = await connectRedis(target, 'command');
  const blocking = await connectRedis(target, 'blocking');
  const mongo = await connectMongo(mongoUri, uniqueName('worker'));
  const config: Config = {
    ...readEnv({
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: prefix,
      WORKER_CONCURRENCY: '4',
      EVENT_PARTITIONS: String(options.partitions ?? 16),
      ...redisEnv(target),
    }),
    MONGODB_URI: mongoUri,
    MONGODB_DB: mongo.db.databaseName,
  };
  const clock = testClock();
  const stores = createStores(config, { mongo, redis }, { now: clock.now });
  await stores.ensureIndexes();
  const {
    keys,
    users,
    states,
    journeys: journeysRepo,
    revision,
    events: stream,
    stats,
    deadLetters,
    dueSchedule,
    branchLock: lock,
  } = stores;
  const journeys = createActiveJourneys(journeysRepo, revision);
  const inner = createRecordApplier({ ...stores, journeys, logger: silentLogger, now: clock.now });
  const applier: RecordApplier = {
    async apply(entry) {
      await journeys.refresh();
      return inner.apply(entry);
    },
  };

  const dueSetKey = (userId: string, branch: DueBranch, dueSecond: number) =>
    keys.dueSet({ shard: keys.dueShardOf(userId), branch, dueSecond });
  return {
    keys,
    redis,
    blocking,
    mongo,
    config,
    clock,
    users,
    states,
    journeysRepo,
    revision,
    journeys,
    stream,
    stats,
    deadLetters,
    dueSchedule,
    lock,
    erase: stores.erase,
    applier,
    async append(record) {
      const [result] = await stream.accept([{ record, deduplicate: false }]);
      if (result?.status !== 'accepted') throw new Error(`record not accepted: ${JSON.stringify(result)}`);
      return { streamId: result.streamId, record };
    },
    async publish(definition) {
      const validation = validateJourney(definition);
      if (!validation.ok) throw new Error(`invalid test journey: ${JSON.stringify(validation.issues)}`);
      const created = await journeysRepo.create(validation.journey);
      if (!created.ok) throw new Error(created.message);
      const published = await journeysRepo.publish(created.journey.id);
      if (!published.ok) throw new Error(published.message);
      await revision.bump();
      return created.journey.id;
    },
    dueMembers: (userId, branch, dueSecond) => redis.smembers(dueSetKey(userId, branch, dueSecond)).then((members) => members.sort()),
    async dueIndexScore(userId, branch, dueSecond) {
      const score = await redis.zscore(keys.dueIndex(keys.dueShardOf(userId)), dueSetKey(userId, branch, dueSecond));
      return score === null ? null : Number(score);
    },
    async close() {
      await mongo.db.dropDatabase().catch(() => undefined);
      await mongo.close();
      redis.disconnect();
      blocking.disconnect();
    },
  };
}

const HOOK = 'http://127.0.0.1:9/hook';

/**
 * signed_up (source != test) enters users from US or CA; account_deleted or unsubscribed=true exits them;
 * welcome message, then an action_paths step waiting for `purchased` (or `viewed_item`).
 */
export function onboardingJourney(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Onboarding',
    entry: {
      trigger: { type: 'event', event: 'signed_up', where: { prop: 'source', op: 'ne', value: 'test' } },
      audience: { attr: 'country', op: 'in', value: ['US', 'CA'] },
      reentry: { mode: 'never' },
    },
    exit: { events: ['account_deleted'], when: { attr: 'unsubscribed', op: 'eq', value: true } },
    start: 'welcome',
    steps: {
      welcome: {
        type: 'message',
        channel: 'webhook',
        messageType: 'onboarding',
        webhook: { url: HOOK },
        payload: { text: 'Hi' },
        next: 'act',
      },
      act: {
        type: 'action_paths',
        window: 'PT1H',
        paths: [
          { id: 'bought', event: 'purchased', next: 'thanks' },
          { id: 'browsed', event: 'viewed_item', next: null },
        ],
        timeout: null,
      },
      thanks: {
        type: 'message',
        channel: 'webhook',
        messageType: 'receipt',
        webhook: { url: HOOK },
        payload: { text: 'Thanks for {{event.item}}' },
        next: null,
      },
    },
    ...over,
  };
}

export function event(userId: string, name: string, properties: Record<string, unknown> = {}, id = uniqueName('evt')): IngestRecord {
  return { type: 'event', id, userId, name, time: T0, properties: properties as Extract<IngestRecord, { type: 'event' }>['properties'] };
}
