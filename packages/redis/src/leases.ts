import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * Work that one worker process at a time does for the whole fleet: carving a due shard (keys.carverLease), sweeping
 * the event partitions (keys.sweeperLease). A lease names its holder and lapses unless renewed, so the work of a
 * process that died moves on; a process that stops gives its leases up. Leases save work, they do not make it safe:
 * what runs under them is safe to run twice (carving is atomic, a drain request is de-duplicated).
 *
 * The schedulers also note themselves alive (`heartbeat`) and share the due shards out by rendezvous hashing over the
 * set, so each knows its own shards without asking the others, and one joining or leaving moves only its share.
 */
export interface Leases {
  /** Notes the member alive for `ms` in the set of schedulers and returns the members alive (itself included), sorted. */
  heartbeat(memberId: string, ms: number): Promise<string[]>;
  /** Leaves the set of schedulers alive (a stopping one), so the others take its shards at once. */
  leave(memberId: string): Promise<void>;
  /** Takes or renews `lease` (a lease key of keys.ts) for `ms`; false when another holder has it. */
  take(lease: string, holderId: string, ms: number): Promise<boolean>;
  /** Gives `lease` up if the holder has it (only its holder can). */
  release(lease: string, holderId: string): Promise<void>;
  /**
   * Takes or renews for `ms` the leases whose `wanted` is true and gives up the others the holder has, in one script
   * (the leases share one hash tag, as the carver leases do); tells which the holder holds now.
   */
  claim(leases: readonly string[], holderId: string, ms: number, wanted: readonly boolean[]): Promise<boolean[]>;
}

const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function createLeases(redis: RedisClient, keys: Keys): Leases {
  const id = (value: string) => {
    if (!ID_PATTERN.test(value)) throw new InvalidInputError('a holder id is 1 to 64 letters, digits, ".", "_" or "-"', { id: value });
    return value;
  };
  const alive = (reply: unknown): string[] => {
    if (!Array.isArray(reply) || !reply.every((each) => typeof each === 'string'))
      throw new UnexpectedReplyError({ script: 'heartbeat', reply });
    return reply;
  };
  async function claim(leases: readonly string[], holderId: string, ms: number, wanted: readonly boolean[]): Promise<boolean[]> {
    if (leases.length !== wanted.length || leases.length === 0)
      throw new InvalidInputError('claim one wish per lease, at least one', { leases: leases.length, wanted: wanted.length });
    const reply = await runScript(redis, 'claimLeases', leases, [id(holderId), positive(ms), ...wanted.map((wish) => (wish ? '1' : '0'))]);
    if (!Array.isArray(reply) || reply.length !== leases.length || !reply.every((each) => each === 0 || each === 1))
      throw new UnexpectedReplyError({ script: 'claimLeases', reply });
    return reply.map((each) => each === 1);
  }
  return {
    heartbeat: async (memberId, ms) => alive(await runScript(redis, 'heartbeat', [keys.carvers()], [id(memberId), positive(ms)])),
    async leave(memberId) {
      alive(await runScript(redis, 'heartbeat', [keys.carvers()], [id(memberId), 0]));
    },
    take: async (lease, holderId, ms) => (await claim([lease], holderId, ms, [true]))[0]!,
    async release(lease, holderId) {
      await claim([lease], holderId, 1, [false]);
    },
    claim,
  };
}

function positive(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1) throw new InvalidInputError('a lease lasts a positive whole number of ms', { ms });
  return ms;
}
