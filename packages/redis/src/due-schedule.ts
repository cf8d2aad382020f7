import { groupBy } from '@journey/core';
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './connection.js';
import { BatchExistsError, InvalidInputError, UnexpectedReplyError } from './errors.js';
import type { BatchRef, DueBranch, DueSetRef, Keys } from './keys.js';
import { decodeDueMember, encodeDueMember, type DueMember } from './members.js';
import { runScript } from './scripts.js';

/**
 * Due sets, their index and batches (docs/architecture.md, "Steps"). A user's next step is a member
 * of the set of its branch and due second in the user's shard; schedulers list the due sets of a shard
 * from its index, carve them into batches of at most 200 members and enqueue one job per batch; the
 * dispatcher finishes the batch when every member is handled; the recovery sweep re-enqueues batches
 * left unfinished for too long.
 */

export const MAX_BATCH_SIZE = 200;

/** Members per scheduleDue call when entering an audience. */
const SCHEDULE_SLICE = 5_000;

export interface DueSetEntry {
  key: string;
  ref: DueSetRef;
}

export interface CarvedBatch {
  batch: BatchRef;
  key: string;
  size: number;
}

export interface StaleBatch {
  batch: BatchRef;
  key: string;
  carvedAtMs: number;
}

/** What the shard holds, for /v1/ops/queues. */
export interface ShardBacklog {
  dueSets: number;
  /** Members in the due sets, not yet carved into a batch. */
  usersWaiting: number;
  oldestDueSecond: number | null;
  unfinishedBatches: number;
  oldestBatchCarvedAtMs: number | null;
}

export interface DueSchedule {
  /**
   * Schedules members on a branch at a second: one script per shard involved (members are grouped by
   * their user's shard), so entering a whole audience takes one call per shard. Returns how many were
   * newly added; a member already waiting in that set is not added twice.
   */
  schedule(branch: DueBranch, dueSecond: number, members: readonly DueMember[]): Promise<number>;
  /** Due sets of a shard whose second is <= nowSecond, oldest first. `invalid` lists index members that are no due-set key. */
  dueSets(shard: number, options: { nowSecond: number; limit?: number }): Promise<{ due: DueSetEntry[]; invalid: string[] }>;
  /** Carves up to maxMembers (default 200) members into a new batch; null when the set was empty. */
  carve(ref: DueSetRef, options?: { maxMembers?: number; nowMs?: number }): Promise<CarvedBatch | null>;
  /** The members of a batch; `invalid` lists raw members that do not decode. */
  batchMembers(batch: BatchRef): Promise<{ members: DueMember[]; invalid: string[] }>;
  /** Deletes and unregisters a batch; true when it was still registered. Idempotent. */
  finish(batch: BatchRef): Promise<boolean>;
  /** Unfinished batches carved at or before nowMs - olderThanMs, oldest first (the recovery sweep). */
  staleBatches(
    shard: number,
    options: { olderThanMs: number; nowMs?: number; limit?: number },
  ): Promise<{ stale: StaleBatch[]; invalid: string[] }>;
  backlog(shard: number): Promise<ShardBacklog>;
}

export function createDueSchedule(redis: RedisClient, keys: Keys): DueSchedule {
  return {
    async schedule(branch, dueSecond, members) {
      const byShard = new Map(
        [...groupBy(members, (member) => keys.dueShardOf(member.userId))].map(([shard, list]) => [shard, list.map(encodeDueMember)]),
      );
      // Slices keep each script short: Redis runs nothing else while a script runs.
      const calls: Promise<number>[] = [];
      for (const [shard, encoded] of byShard) {
        const scriptKeys = [keys.dueSet({ shard, branch, dueSecond }), keys.dueIndex(shard), keys.dueWaiting(shard)];
        for (let first = 0; first < encoded.length; first += SCHEDULE_SLICE) {
          const slice = encoded.slice(first, first + SCHEDULE_SLICE);
          calls.push(runScript(redis, 'scheduleDue', scriptKeys, [dueSecond, ...slice]).then((reply) => count('scheduleDue', reply)));
        }
      }
      const added = await Promise.all(calls);
      return added.reduce((sum, each) => sum + each, 0);
    },

    async dueSets(shard, { nowSecond, limit = 100 }) {
      const members = await redis.zrangebyscore(keys.dueIndex(shard), '-inf', nowSecond, 'LIMIT', 0, limit);
      const due: DueSetEntry[] = [];
      const invalid: string[] = [];
      for (const key of members) {
        const ref = keys.parseDueSet(key);
        if (ref && ref.shard === shard) due.push({ key, ref });
        else invalid.push(key);
      }
      return { due, invalid };
    },

    async carve(ref, { maxMembers = MAX_BATCH_SIZE, nowMs = Date.now() } = {}) {
      if (!Number.isInteger(maxMembers) || maxMembers < 1)
        throw new InvalidInputError('maxMembers must be a positive integer', { maxMembers });
      // A nonce collision is astronomically unlikely; if it happens anyway, the script wrote nothing and a new nonce is safe.
      for (let attempt = 1; ; attempt++) {
        const batch: BatchRef = { ...ref, nonce: randomBytes(6).toString('hex') };
        const key = keys.batch(batch);
        try {
          const reply = await runScript(
            redis,
            'carveBatch',
            [keys.dueSet(ref), keys.dueIndex(ref.shard), key, keys.batches(ref.shard), keys.dueWaiting(ref.shard)],
            [maxMembers, nowMs],
          );
          const size = count('carveBatch', reply);
          return size === 0 ? null : { batch, key, size };
        } catch (error) {
          if (!(error instanceof BatchExistsError) || attempt >= 3) throw error;
        }
      }
    },

    async batchMembers(batch) {
      const raw = await redis.smembers(keys.batch(batch));
      const members: DueMember[] = [];
      const invalid: string[] = [];
      for (const each of raw) {
        const member = decodeDueMember(each);
        if (member && keys.dueShardOf(member.userId) === batch.shard) members.push(member);
        else invalid.push(each);
      }
      return { members, invalid };
    },

    async finish(batch) {
      const reply = await runScript(redis, 'finishBatch', [keys.batch(batch), keys.batches(batch.shard)], []);
      return count('finishBatch', reply) === 1;
    },

    async staleBatches(shard, { olderThanMs, nowMs = Date.now(), limit = 100 }) {
      const reply = await redis.zrangebyscore(keys.batches(shard), '-inf', nowMs - olderThanMs, 'WITHSCORES', 'LIMIT', 0, limit);
      const stale: StaleBatch[] = [];
      const invalid: string[] = [];
      for (let index = 0; index < reply.length; index += 2) {
        const key = reply[index]!;
        const batch = keys.parseBatch(key);
        const carvedAtMs = Number(reply[index + 1]);
        if (batch && batch.shard === shard && Number.isSafeInteger(carvedAtMs)) stale.push({ batch, key, carvedAtMs });
        else invalid.push(key);
      }
      return { stale, invalid };
    },

    async backlog(shard) {
      const [dueSets, waiting, oldestDue, unfinishedBatches, oldestBatch] = await Promise.all([
        redis.zcard(keys.dueIndex(shard)),
        redis.get(keys.dueWaiting(shard)),
        redis.zrange(keys.dueIndex(shard), 0, 0, 'WITHSCORES'),
        redis.zcard(keys.batches(shard)),
        redis.zrange(keys.batches(shard), 0, 0, 'WITHSCORES'),
      ]);
      return {
        dueSets,
        usersWaiting: Math.max(0, Number(waiting ?? 0) || 0),
        oldestDueSecond: oldestDue[1] === undefined ? null : Number(oldestDue[1]),
        unfinishedBatches,
        oldestBatchCarvedAtMs: oldestBatch[1] === undefined ? null : Number(oldestBatch[1]),
      };
    },
  };
}

function count(script: string, reply: unknown): number {
  if (typeof reply !== 'number' || !Number.isInteger(reply) || reply < 0) throw new UnexpectedReplyError({ script, reply });
  return reply;
}
