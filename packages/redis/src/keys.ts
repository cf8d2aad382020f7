import { InvalidInputError } from './errors.js';
import { keySlot } from './key-slot.js';
import { KEY_ID_PATTERN, TOKEN_PATTERN, UserIdSchema, VersionSchema } from './ids.js';

/**
 * The ONE place Redis keys and BullMQ names are built (docs/architecture.md, "Stores and what they own").
 *
 *   {p:ev:N}:stream                      stream of partition N's accepted events
 *   {p:ev:N}:dedup:<userId>|<eventId>    client event id seen (string, EX window); scoped by user so the
 *                                        outcome does not depend on which users share a partition
 *   {p:ev:N}:failures                    failed applications per stream id of partition N (hash)
 *   {p:ev:N}:dead                        records of partition N that failed too often (stream, capped)
 *   {p:due:S}:<journey>:<version>:<step>:<second>   due set: members waiting for that branch and second
 *   {p:due:S}:index                      sorted set of shard S's due set keys, scored by their second
 *   {p:due:S}:batch:<batchId>            set of up to 200 members carved for one batch job
 *   {p:due:S}:batches                    sorted set of unfinished batch keys, scored by carve time (ms)
 *   {p:due:S}:waiting                    counter of members in shard S's due sets (not yet carved), for ops
 *   {p:due:S}:lock:<journey>:<userId>:<entryId>  branch lock of an entry of a user of shard S
 *   {p:due:S}:sends:<bucket>             recent sends of shard S's users hashed to the bucket (hash), for caps
 *   {p:due:S}:refused:<messageId>        a message to a user of shard S the receiver refused for good (expires)
 *   p:journeys:revision                  counter bumped by every journey lifecycle change (workers reload then)
 *   {p:stats:<journey>:<version>}        counters hash
 *   {p:stats:<journey>:<version>}:<h|d>:<second>   the same counters of one hour or day (hash, expires)
 *   p:ops:activity:<second>              dispatch activity of one second (hash, expires), for ops rates
 *   p:ops:failures                       recent failures (capped list of JSON), for ops
 *   {p:carve}:alive                      schedulers alive (sorted set: id -> until), for sharing the shards out
 *   {p:carve}:shard:S                    the lease of the scheduler that carves shard S (string, expires); one tag
 *                                        for all, so a scheduler claims its shards in one script
 *   p:sweeper                            the lease of the worker that sweeps the event partitions (string, expires)
 *
 * BullMQ queues: `{p-drain-G}` and `{p-dispatch-G}` per queue group G (partitions and shards are dealt out to the
 * groups), `{p-schedule}`. A group's tag may carry a suffix (`{p-dispatch-2.5}`) that puts its slot in the G-th of
 * equal ranges of the 16384 slots: see queueTag.
 *
 * Keys a script touches together start with the same hash tag `{...}` (the first one counts, so braces
 * inside a user id later in the key are harmless). Due-set keys have 4 parts after the tag, batch keys
 * 2 and the index, batches and waiting counter 1, so they can never collide.
 */

export const DEFAULT_EVENT_PARTITIONS = 16;
export const DEFAULT_DUE_SHARDS = 16;
/** Queue groups: each has its own drain and dispatch queue, so a cluster spreads the job traffic over its masters. */
export const DEFAULT_QUEUE_GROUPS = 4;
/** Send-history hashes: about 15 users each at a million messaged users, where a bucket's own cost is a few bytes per user. */
export const DEFAULT_SEND_HISTORY_BUCKETS = 65_536;

/** Prefixes become BullMQ queue names, which must not contain ":". */
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface KeysOptions {
  /** Event stream partitions (fixed for a deployment: changing it re-homes users). */
  eventPartitions?: number;
  /** Due-set shards (fixed for a deployment, like eventPartitions). */
  dueShards?: number;
  /**
   * Drain and dispatch queues (fixed for a deployment: a partition's drain moves to another queue when it changes, so
   * two could run at once while workers of both settings run). At most the partitions and shards: more would be empty.
   */
  queueGroups?: number;
  /**
   * Hashes that users' send histories share (fixed for a deployment: changing it forgets the histories). A bucket
   * stays compact (a listpack) up to 128 users; the default suits up to about 8 million users who got messages in
   * the last 31 days.
   */
  sendHistoryBuckets?: number;
}

/** The branch a user waits on: a step of one journey version. */
export interface DueBranch {
  journeyId: string;
  version: number;
  stepId: string;
}

/** One due set: the users of one shard waiting on one branch for one second. */
export interface DueSetRef {
  shard: number;
  branch: DueBranch;
  /** Epoch seconds. */
  dueSecond: number;
}

/** One carved batch: where it came from, plus a nonce making its key unique. */
export interface BatchRef extends DueSetRef {
  nonce: string;
}

const NONCE_PATTERN = /^[A-Za-z0-9]{1,32}$/;
const MESSAGE_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
const ID = '[A-Za-z0-9_-]{1,64}';
const INT = '(0|[1-9][0-9]{0,15})';

export interface Keys {
  readonly prefix: string;
  readonly eventPartitions: number;
  readonly dueShards: number;
  /**
   * BullMQ queue names; each carries its own hash tag, so every queue works on Redis Cluster. A drain queue per group
   * of event partitions and a dispatch queue per group of due shards (index = group).
   */
  readonly queues: { readonly drain: readonly string[]; readonly dispatch: readonly string[]; readonly schedule: string };

  eventPartitionOf(userId: string): number;
  dueShardOf(userId: string): number;
  /** The drain queue of a partition (its group: partition mod the drain queues). */
  drainQueueOf(partition: number): string;
  /** The dispatch queue of a shard's batches (its group: shard mod the dispatch queues). */
  dispatchQueueOf(shard: number): string;

  eventStream(partition: number): string;
  eventDedup(partition: number, userId: string, eventId: string): string;
  /** How often each of the partition's records failed to apply (hash: stream id -> count). */
  eventFailures(partition: number): string;
  /** Records of the partition that failed too often, with their error (dead letters). */
  deadLetters(partition: number): string;

  dueSet(ref: DueSetRef): string;
  dueIndex(shard: number): string;
  batch(ref: BatchRef): string;
  batches(shard: number): string;
  /** Members waiting in the shard's due sets (a counter the due-set scripts keep), so ops never sums sets. */
  dueWaiting(shard: number): string;
  /** The lease of the one scheduler that carves the shard now. */
  carverLease(shard: number): string;
  /** The schedulers alive, which share the shards out among themselves. */
  carvers(): string;
  /** The lease of the one worker that sweeps the event partitions for drains that were never requested. */
  sweeperLease(): string;
  /** Parses a due index member back; undefined if it is not a due-set key of this prefix. */
  parseDueSet(key: string): DueSetRef | undefined;
  /** Parses a batches member back; undefined if it is not a batch key of this prefix. */
  parseBatch(key: string): BatchRef | undefined;

  branchLock(journeyId: string, userId: string, entryId: string): string;
  /** The hash that holds the user's recent sends (with other users'), for frequency caps: see send-history.ts. */
  sendHistory(userId: string): string;
  /** A message the receiver refused for good: a retried step records that instead of posting it again. */
  refusedMessage(userId: string, messageId: string): string;
  /** Bumped by every journey lifecycle change: workers reload their journeys when it moved. */
  journeysRevision(): string;
  stats(journeyId: string, version: number): string;
  /** The counters of one hour (`h`) or day (`d`) starting at `startSecond` (epoch seconds). */
  statsBucket(journeyId: string, version: number, interval: 'h' | 'd', startSecond: number): string;
  /** Dispatch activity of one epoch second (hash of counters). */
  opsActivity(second: number): string;
  /** Recent failures (newest first, capped). */
  opsFailures(): string;

  /** Drain job id of a partition: one drain per partition at a time (BullMQ rejects integer ids). */
  drainJobId(partition: number): string;
  /** Batch job id (BullMQ rejects ":" in custom ids): deterministic, so re-enqueueing is a no-op. */
  batchJobId(ref: BatchRef): string;
  /** Job id of a schedule trigger's run (journey, version, `at` in epoch ms): adding the run twice is a no-op. */
  scheduleJobId(journeyId: string, version: number, atMs: number): string;
}

/** 32-bit FNV-1a of the UTF-8 bytes: stable across processes and versions, cheap, well spread. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function createKeys(prefix: string, options: KeysOptions = {}): Keys {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new InvalidInputError(`key prefix must be 1 to 64 letters, digits, "_" or "-"`, { prefix });
  }
  const eventPartitions = countOption('eventPartitions', options.eventPartitions ?? DEFAULT_EVENT_PARTITIONS);
  const dueShards = countOption('dueShards', options.dueShards ?? DEFAULT_DUE_SHARDS);
  const sendHistoryBuckets = countOption('sendHistoryBuckets', options.sendHistoryBuckets ?? DEFAULT_SEND_HISTORY_BUCKETS, 2 ** 24);
  const queueGroups = countOption('queueGroups', options.queueGroups ?? DEFAULT_QUEUE_GROUPS, 64);
  const queuesOf = (kind: string, count: number) => {
    const groups = Math.min(queueGroups, count);
    return Array.from({ length: groups }, (_, group) => queueTag(`${prefix}-${kind}`, group, groups));
  };
  const drainQueues = queuesOf('drain', eventPartitions);
  const dispatchQueues = queuesOf('dispatch', dueShards);

  const partitionTag = (partition: number) => `{${prefix}:ev:${checkIndex('partition', partition, eventPartitions)}}`;
  const shardTag = (shard: number) => `{${prefix}:due:${checkIndex('shard', shard, dueShards)}}`;
  // A user's keys that dispatch touches per member (branch locks, send history, refusals) carry the tag of the user's
  // due shard, as the batches the user is in do: one script serves a whole batch, on Redis Cluster too.
  const userTag = (userId: string) => shardTag(fnv1a32(userIdPart(userId)) % dueShards);
  const branchPart = (branch: DueBranch) =>
    `${keyId('journeyId', branch.journeyId)}:${version(branch.version)}:${keyId('stepId', branch.stepId)}`;
  const batchId = (ref: BatchRef) => {
    if (!NONCE_PATTERN.test(ref.nonce)) throw new InvalidInputError('batch nonce must be 1 to 32 letters or digits', { nonce: ref.nonce });
    // "." separates the parts: it is in none of them, and BullMQ job ids may not contain ":".
    const { journeyId, version: journeyVersion, stepId } = ref.branch;
    return `${keyId('journeyId', journeyId)}.${version(journeyVersion)}.${keyId('stepId', stepId)}.${second(ref.dueSecond)}.${ref.nonce}`;
  };

  // The prefix matched PREFIX_PATTERN, so it holds no regex metacharacters.
  const dueSetPattern = new RegExp(`^\\{${prefix}:due:${INT}\\}:(${ID}):${INT}:(${ID}):${INT}$`);
  const batchPattern = new RegExp(`^\\{${prefix}:due:${INT}\\}:batch:(${ID})\\.${INT}\\.(${ID})\\.${INT}\\.([A-Za-z0-9]{1,32})$`);

  const keys: Keys = {
    prefix,
    eventPartitions,
    dueShards,
    queues: { drain: drainQueues, dispatch: dispatchQueues, schedule: `{${prefix}-schedule}` },

    eventPartitionOf: (userId) => fnv1a32(userId) % eventPartitions,
    dueShardOf: (userId) => fnv1a32(userId) % dueShards,
    drainQueueOf: (partition) => drainQueues[checkIndex('partition', partition, eventPartitions) % drainQueues.length]!,
    dispatchQueueOf: (shard) => dispatchQueues[checkIndex('shard', shard, dueShards) % dispatchQueues.length]!,

    eventStream: (partition) => `${partitionTag(partition)}:stream`,
    eventDedup: (partition, userId, eventId) => {
      if (eventId.length === 0) throw new InvalidInputError('event id must not be empty');
      return `${partitionTag(partition)}:dedup:${userIdPart(userId)}|${eventId}`;
    },
    eventFailures: (partition) => `${partitionTag(partition)}:failures`,
    deadLetters: (partition) => `${partitionTag(partition)}:dead`,

    dueSet: (ref) => `${shardTag(ref.shard)}:${branchPart(ref.branch)}:${second(ref.dueSecond)}`,
    dueIndex: (shard) => `${shardTag(shard)}:index`,
    batch: (ref) => `${shardTag(ref.shard)}:batch:${batchId(ref)}`,
    batches: (shard) => `${shardTag(shard)}:batches`,
    dueWaiting: (shard) => `${shardTag(shard)}:waiting`,
    carverLease: (shard) => `{${prefix}:carve}:shard:${checkIndex('shard', shard, dueShards)}`,
    carvers: () => `{${prefix}:carve}:alive`,
    sweeperLease: () => `${prefix}:sweeper`,

    parseDueSet: (key) => {
      const match = dueSetPattern.exec(key);
      if (!match) return undefined;
      const [, shard, journeyId, versionText, stepId, dueSecond] = match;
      const ref = {
        shard: Number(shard),
        branch: { journeyId: journeyId!, version: Number(versionText), stepId: stepId! },
        dueSecond: Number(dueSecond),
      };
      return isRefInRange(ref, dueShards) ? ref : undefined;
    },
    parseBatch: (key) => {
      const match = batchPattern.exec(key);
      if (!match) return undefined;
      const [, shard, journeyId, versionText, stepId, dueSecond, nonce] = match;
      const ref = {
        shard: Number(shard),
        branch: { journeyId: journeyId!, version: Number(versionText), stepId: stepId! },
        dueSecond: Number(dueSecond),
        nonce: nonce!,
      };
      return isRefInRange(ref, dueShards) ? ref : undefined;
    },

    // The journey id (no ":") comes first and the entry id (no ":") last, so a ":" in the user id is unambiguous.
    branchLock: (journeyId, userId, entryId) => {
      if (!TOKEN_PATTERN.test(entryId))
        throw new InvalidInputError('entry id must be 1 to 64 letters, digits, "_", "-" or "."', { entryId });
      return `${userTag(userId)}:lock:${keyId('journeyId', journeyId)}:${userIdPart(userId)}:${entryId}`;
    },
    // One hash per bucket number under "sends": no other key family uses that word.
    sendHistory: (userId) => `${userTag(userId)}:sends:${fnv1a32(userIdPart(userId)) % sendHistoryBuckets}`,
    refusedMessage: (userId, messageId) => {
      if (!MESSAGE_ID_PATTERN.test(messageId))
        throw new InvalidInputError('message id must be 1 to 64 letters, digits or "-"', { messageId });
      return `${userTag(userId)}:refused:${messageId}`;
    },
    journeysRevision: () => `${prefix}:journeys:revision`,
    // One tag per journey version: a batch's counters and their hour and day buckets change in one MULTI.
    stats: (journeyId, journeyVersion) => `{${prefix}:stats:${keyId('journeyId', journeyId)}:${version(journeyVersion)}}`,
    statsBucket: (journeyId, journeyVersion, interval, startSecond) =>
      `{${prefix}:stats:${keyId('journeyId', journeyId)}:${version(journeyVersion)}}:${interval}:${second(startSecond)}`,
    opsActivity: (activitySecond) => `${prefix}:ops:activity:${second(activitySecond)}`,
    opsFailures: () => `${prefix}:ops:failures`,

    drainJobId: (partition) => `ev-${checkIndex('partition', partition, eventPartitions)}`,
    batchJobId: (ref) => `batch-${checkIndex('shard', ref.shard, dueShards)}-${batchId(ref)}`,
    scheduleJobId: (journeyId, journeyVersion, atMs) =>
      `schedule-${keyId('journeyId', journeyId)}-${version(journeyVersion)}-${epochMs(atMs)}`,
  };
  return Object.freeze(keys);
}

/**
 * The hash tag of queue group `group` of `groups`: `{<base>-<group>}`, or with the first suffix `.<n>` that puts its
 * slot within the middle quarter of the group's share of the 16384 slots (the group-th of `groups` equal ranges). A
 * cluster whose masters hold equal ranges, as `redis-cli --cluster create` deals them, then serves the groups from
 * different masters (4 groups on 3 masters: one, two and one; on 2: two each) instead of where their names happen to
 * hash. About 4 x groups names are tried per group, once per process.
 */
export function queueTag(base: string, group: number, groups: number): string {
  const share = 16_384 / groups;
  const middle = (group + 0.5) * share;
  for (let suffix = 0; ; suffix++) {
    const tag = suffix === 0 ? `${base}-${group}` : `${base}-${group}.${suffix}`;
    if (Math.abs(keySlot(tag) - middle) <= share / 8) return `{${tag}}`;
  }
}

function countOption(name: string, value: number, most = 1024): number {
  if (!Number.isInteger(value) || value < 1 || value > most) {
    throw new InvalidInputError(`${name} must be an integer from 1 to ${most}`, { [name]: value });
  }
  return value;
}

function checkIndex(name: string, value: number, count: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= count) {
    throw new InvalidInputError(`${name} must be an integer from 0 to ${count - 1}`, { [name]: value });
  }
  return value;
}

function keyId(name: string, value: string): string {
  if (!KEY_ID_PATTERN.test(value)) throw new InvalidInputError(`${name} must be 1 to 64 letters, digits, "_" or "-"`, { [name]: value });
  return value;
}

function version(value: number): number {
  if (!VersionSchema.safeParse(value).success)
    throw new InvalidInputError('journey version must be a non-negative integer', { version: value });
  return value;
}

function second(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidInputError('due second must be a non-negative integer (epoch seconds)', { dueSecond: value });
  return value;
}

function epochMs(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidInputError('time must be a non-negative integer (epoch ms)', { atMs: value });
  return value;
}

function userIdPart(userId: string): string {
  if (!UserIdSchema.safeParse(userId).success) {
    throw new InvalidInputError('user id must be 1 to 256 characters without "|"', { userId });
  }
  return userId;
}

function isRefInRange(ref: DueSetRef, dueShards: number): boolean {
  return ref.shard < dueShards && Number.isSafeInteger(ref.branch.version) && Number.isSafeInteger(ref.dueSecond);
}
