import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * Which scheduler carves which due shard. One carver per shard at a time keeps batches as full as one scheduler makes
 * them and the polling of the due indexes as cheap, however many worker processes run: each shard is polled by its
 * lease holder only. The lease is for efficiency, not safety: carving is atomic, so two carvers of a shard (a lease
 * that lapsed under a stalled holder) still put every member in exactly one batch.
 *
 * The schedulers alive note themselves in a set (`heartbeat`) and share the shards out by rendezvous hashing over it,
 * so each knows its own shards without asking the others, and a scheduler joining or leaving moves only its share.
 */
export interface CarverLeases {
  /** Notes the scheduler alive for `ms` and returns the schedulers alive (itself included), sorted. */
  heartbeat(schedulerId: string, ms: number): Promise<string[]>;
  /** Leaves the set of schedulers alive (a stopping scheduler), so the others take its shards at once. */
  leave(schedulerId: string): Promise<void>;
  /** Takes or renews the shard's lease for `ms`; false when another scheduler holds it. */
  take(shard: number, schedulerId: string, ms: number): Promise<boolean>;
  /** Gives up the shard's lease (only its holder can); true when it was held. */
  release(shard: number, schedulerId: string): Promise<boolean>;
}

const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function createCarverLeases(redis: RedisClient, keys: Keys): CarverLeases {
  const schedulerId = (id: string) => {
    if (!ID_PATTERN.test(id)) throw new InvalidInputError('scheduler id must be 1 to 64 letters, digits, ".", "_" or "-"', { id });
    return id;
  };
  const alive = (reply: unknown): string[] => {
    if (!Array.isArray(reply) || !reply.every((each) => typeof each === 'string'))
      throw new UnexpectedReplyError({ script: 'heartbeat', reply });
    return reply;
  };
  const flag = (script: string, reply: unknown): boolean => {
    if (reply !== 0 && reply !== 1) throw new UnexpectedReplyError({ script, reply });
    return reply === 1;
  };
  return {
    heartbeat: async (id, ms) => alive(await runScript(redis, 'heartbeat', [keys.carvers()], [schedulerId(id), positive(ms)])),
    async leave(id) {
      alive(await runScript(redis, 'heartbeat', [keys.carvers()], [schedulerId(id), 0]));
    },
    take: async (shard, id, ms) =>
      flag('takeLease', await runScript(redis, 'takeLease', [keys.carverLease(shard)], [schedulerId(id), positive(ms)])),
    release: async (shard, id) =>
      flag('releaseLease', await runScript(redis, 'releaseLease', [keys.carverLease(shard)], [schedulerId(id)])),
  };
}

function positive(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1) throw new InvalidInputError('a lease lasts a positive whole number of ms', { ms });
  return ms;
}
