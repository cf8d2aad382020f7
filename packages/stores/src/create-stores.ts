import type { Config } from '@journey/config';
import {
  createApiKeysRepository,
  createJourneyStatesRepository,
  createJourneysRepository,
  createUsersRepository,
  type ApiKeysRepository,
  type JourneysRepository,
  type JourneyStatesRepository,
  type MongoStore,
  type UsersRepository,
} from '@journey/mongo';
import {
  createBranchLock,
  createDeadLetters,
  createDispatchQueue,
  createDrainQueue,
  createDueSchedule,
  createEventsStream,
  createJourneysRevision,
  createKeys,
  createLeases,
  createOpsActivity,
  createScheduleQueue,
  createSendHistory,
  createStats,
  type BranchLock,
  type DeadLetters,
  type DispatchQueue,
  type DrainQueue,
  type DueSchedule,
  type EventsStream,
  type JourneysRevision,
  type Keys,
  type Leases,
  type OpsActivity,
  type ScheduleQueue,
  type SendHistory,
  type Stats,
  type RedisClient,
} from '@journey/redis';
import { createUserErasure } from './erase-user.js';

/** The connections a process opened: the stores are built on them and never open their own. */
export interface Connections {
  mongo: MongoStore;
  redis: RedisClient;
}

/** Every store of the engine, built once per process from its configuration and connections. */
export interface Stores {
  keys: Keys;
  journeys: JourneysRepository;
  states: JourneyStatesRepository;
  users: UsersRepository;
  apiKeys: ApiKeysRepository;
  events: EventsStream;
  deadLetters: DeadLetters;
  dueSchedule: DueSchedule;
  leases: Leases;
  branchLock: BranchLock;
  stats: Stats;
  sendHistory: SendHistory;
  activity: OpsActivity;
  revision: JourneysRevision;
  /** Erases everything held of a user, up to their `erase` record (see createUserErasure). */
  erase(userId: string, upToRecord: string): Promise<void>;
  /** The BullMQ queues are made on first use (each holds listeners on the connection); `close` closes those made. */
  readonly drainQueue: DrainQueue;
  readonly dispatchQueue: DispatchQueue;
  readonly scheduleQueue: ScheduleQueue;
  /** Creates the collections' indexes; idempotent, run at every start. */
  ensureIndexes(): Promise<void>;
  /** Closes the queues made; the connections stay the caller's. */
  close(): Promise<void>;
}

export interface StoresOptions {
  /** Milliseconds since the epoch, for the stores that stamp times (default Date.now). */
  now?: () => number;
  /**
   * Told of a queue's connection errors. BullMQ re-emits them on the queue, and an 'error' event nobody listens to
   * would crash the process; outages show in /health and in failed calls, so callers mostly log them at debug.
   */
  onQueueError?: (error: Error, queue: 'drain' | 'dispatch' | 'schedule') => void;
}

/** The one wiring of the stores, for the API, the workers, the tests and the benchmarks alike. */
export function createStores(
  config: Pick<Config, 'REDIS_PREFIX' | 'EVENT_PARTITIONS' | 'DUE_SHARDS' | 'QUEUE_GROUPS'>,
  { mongo, redis }: Connections,
  options: StoresOptions = {},
): Stores {
  const keys = createKeys(config.REDIS_PREFIX, {
    eventPartitions: config.EVENT_PARTITIONS,
    dueShards: config.DUE_SHARDS,
    queueGroups: config.QUEUE_GROUPS,
  });
  const now = options.now ?? Date.now;
  const onQueueError = options.onQueueError ?? (() => undefined);
  const listen = (
    name: 'drain' | 'dispatch' | 'schedule',
    queues: ReadonlyArray<{ on(event: 'error', listener: (error: Error) => void): unknown }>,
  ) => {
    for (const queue of queues) queue.on('error', (error) => onQueueError(error, name));
  };
  const { db } = mongo;
  let drainQueue: DrainQueue | undefined;
  let dispatchQueue: DispatchQueue | undefined;
  let scheduleQueue: ScheduleQueue | undefined;
  const journeys = createJourneysRepository(db, { now });
  const states = createJourneyStatesRepository(db);
  const users = createUsersRepository(db);
  const apiKeys = createApiKeysRepository(db);
  const branchLock = createBranchLock(redis, keys);
  const sendHistory = createSendHistory(redis, keys);

  return {
    keys,
    journeys,
    states,
    users,
    apiKeys,
    events: createEventsStream(redis, keys),
    deadLetters: createDeadLetters(redis, keys),
    dueSchedule: createDueSchedule(redis, keys),
    leases: createLeases(redis, keys),
    branchLock,
    stats: createStats(redis, keys),
    sendHistory,
    erase: createUserErasure({ users, states, branchLock, sendHistory }, now),
    activity: createOpsActivity(redis, keys),
    revision: createJourneysRevision(redis, keys),
    get drainQueue() {
      if (!drainQueue) {
        drainQueue = createDrainQueue(redis, keys);
        listen('drain', drainQueue.queues);
      }
      return drainQueue;
    },
    get dispatchQueue() {
      if (!dispatchQueue) {
        dispatchQueue = createDispatchQueue(redis, keys);
        listen('dispatch', dispatchQueue.queues);
      }
      return dispatchQueue;
    },
    get scheduleQueue() {
      if (!scheduleQueue) {
        scheduleQueue = createScheduleQueue(redis, keys, { now });
        listen('schedule', [scheduleQueue.queue]);
      }
      return scheduleQueue;
    },
    async ensureIndexes() {
      await Promise.all([journeys.ensureIndexes(), states.ensureIndexes(), users.ensureIndexes(), apiKeys.ensureIndexes()]);
    },
    async close() {
      await Promise.all([drainQueue?.close(), dispatchQueue?.close(), scheduleQueue?.close()]);
    },
  };
}
