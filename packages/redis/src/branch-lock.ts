import type { RedisClient } from './connection.js';
import { LOCK_MARGIN_MS } from '@journey/core';
import { InvalidInputError, LockNotHeldError, UnexpectedReplyError } from './errors.js';
import { TOKEN_PATTERN } from './ids.js';
import type { Keys } from './keys.js';
import { bySlot, runScript } from './scripts.js';

/**
 * The branch lock of one user entry (journey, user, entry): its value is the token of the branch that
 * owns the entry now, with the lease of the try that took it while that try runs (takeBranchLocks-N.lua). A step takes it with compare-and-set from the token it expects to its own token;
 * racing branches expect the same token, so exactly one wins. Ownership is checked inside Lua only.
 * While the entry goes on there is no release: the next step takes the lock over from our token, and the TTL
 * must outlast the longest wait of the journey, or a waiting user finds the key gone and is reported `lost`.
 * Once the entry ended (its final state committed) the lock is released, so Redis holds locks of live entries
 * only; a late duplicate of a step then finds the key gone (`lost`), or, for a first step, the ended state.
 */

export const LOCK_OUTCOMES = { LOST: 0, ACQUIRED: 1, RESUME: 2, BUSY: 3 } as const;

export type TakeLockResult =
  /** The lock was the expected token (or absent for a first step) and is ours now: run the step. */
  | { status: 'acquired' }
  /** The lock already holds our token: a retry of this step; resume idempotently. */
  | { status: 'resume' }
  /** Our token, leased by another try of this item until `until` (epoch ms): leave the item to it, look again then. */
  | { status: 'busy'; until: number }
  /** Another branch owns the entry (`current` = its token), or the key is gone (`current` = null): do nothing. */
  | { status: 'lost'; current: string | null };

/** The try taking a lock: its lease keeps other tries of the same item away until the try is past its send. */
export interface LockLease {
  /** Epoch ms. */
  now: number;
  ms: number;
  /** This try's id (letters, digits, "_", "-"). */
  tryId: string;
}

export interface BranchLockTarget {
  journeyId: string;
  userId: string;
  entryId: string;
}

/** One member's lock to take: the token its step expects and its own. */
export interface LockClaim {
  target: BranchLockTarget;
  expectedToken: string;
  ownToken: string;
}

/** What a try past its send does with a member's lock: extend it (the entry goes on) or release it (it ended). */
export type LockSettlement =
  { target: BranchLockTarget; ownToken: string; extendMs: number } | { target: BranchLockTarget; ownToken: string; release: true };

export interface BranchLock {
  /**
   * Takes the locks of many members, one script per cluster slot (a batch's members share their due shard's tag,
   * so a batch is one script); results in input order. `expectedToken` "" means the entry's first step: the lock
   * must not exist yet. The try's lease is written with the token: while it runs, another try of the same item finds
   * the lock `busy`. Without a lease, it lapses at once (for callers that send nothing).
   */
  takeMany(claims: readonly LockClaim[], ttlMs: number, lease?: LockLease): Promise<TakeLockResult[]>;
  take(
    target: BranchLockTarget,
    tokens: { expectedToken: string; ownToken: string },
    ttlMs: number,
    lease?: LockLease,
  ): Promise<TakeLockResult>;
  /**
   * Extends or releases many locks, each only if it holds the member's token, ending the try's lease; one script per
   * slot. True where it did. A release is only for an entry whose final state is committed: from then on its state,
   * not the lock, turns away a late duplicate of a step.
   */
  settleMany(settlements: readonly LockSettlement[]): Promise<boolean[]>;
  /** Re-arms the TTL and ends the try's lease; only the holder of `ownToken` can. Throws LockNotHeldError (unrecoverable) otherwise. */
  extend(target: BranchLockTarget, ownToken: string, ttlMs: number): Promise<void>;
  /** Deletes the lock if `ownToken` holds it (compare-and-delete); returns whether it did. See settleMany. */
  release(target: BranchLockTarget, ownToken: string): Promise<boolean>;
  /**
   * Sets the lock to `token` whatever it holds (one SET, atomic): an exit seals the entry with a token no
   * scheduled step expects, so every step the entry had scheduled finds the lock `lost`. The TTL only has to
   * outlast the steps still scheduled; once it lapses, steps that expect a token find the key gone and lose too.
   */
  seal(target: BranchLockTarget, token: string, ttlMs: number): Promise<void>;
  /** The current token (without a try's lease), or null. */
  current(target: BranchLockTarget): Promise<string | null>;
  /** Deletes the locks whatever they hold: only for entries whose state is gone (erasure), which no step can take then. */
  remove(targets: readonly BranchLockTarget[]): Promise<void>;
}

/**
 * A value a settle finds that is not the member's (an exit's seal written since) is put back with this TTL: as long
 * as a seal lives, and as long as a lock outlives the wait of the step that took it.
 */
const RESTORED_TTL_MS = LOCK_MARGIN_MS;

export function createBranchLock(redis: RedisClient, keys: Keys): BranchLock {
  const keyOf = (target: BranchLockTarget) => keys.branchLock(target.journeyId, target.userId, target.entryId);

  const takeMany: BranchLock['takeMany'] = async (claims, ttlMs, lease = { now: Date.now(), ms: 1, tryId: 'unleased' }) => {
    for (const { expectedToken, ownToken } of claims) {
      if (expectedToken !== '') token('expected token', expectedToken);
      token('own token', ownToken);
      if (ownToken === expectedToken) throw new InvalidInputError('own token must differ from the expected token', { ownToken });
    }
    ttl(ttlMs);
    ttl(lease.ms);
    if (!Number.isSafeInteger(lease.now) || lease.now < 0) throw new InvalidInputError('lease now must be epoch ms', { now: lease.now });
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(lease.tryId))
      throw new InvalidInputError('try id must be 1 to 64 letters, digits, "_" or "-"', { tryId: lease.tryId });
    return bySlot(
      claims,
      (claim) => keyOf(claim.target),
      async (group, groupKeys) => {
        const args = [ttlMs, lease.now, lease.ms, lease.tryId, ...group.flatMap((claim) => [claim.expectedToken, claim.ownToken])];
        const reply = await runScript(redis, 'takeBranchLocks', groupKeys, args);
        if (!Array.isArray(reply) || reply.length !== group.length) throw new UnexpectedReplyError({ script: 'takeBranchLocks', reply });
        return group.map((claim, index) => takeResult(reply[index], claim.ownToken));
      },
    );
  };

  const settleMany: BranchLock['settleMany'] = async (settlements) => {
    for (const settlement of settlements) {
      token('own token', settlement.ownToken);
      if ('extendMs' in settlement) ttl(settlement.extendMs);
    }
    return bySlot(
      settlements,
      (settlement) => keyOf(settlement.target),
      async (group, groupKeys) => {
        const args = [
          RESTORED_TTL_MS,
          ...group.flatMap((each) => ('extendMs' in each ? ['x', each.ownToken, each.extendMs] : ['r', each.ownToken, 1])),
        ];
        const reply = await runScript(redis, 'settleBranchLocks', groupKeys, args);
        if (!Array.isArray(reply) || reply.length !== group.length || reply.some((each) => each !== 0 && each !== 1))
          throw new UnexpectedReplyError({ script: 'settleBranchLocks', reply });
        return reply.map((each) => each === 1);
      },
    );
  };

  return {
    takeMany,
    async take(target, tokens, ttlMs, lease) {
      const [result] = await takeMany([{ target, ...tokens }], ttlMs, lease);
      return result!;
    },
    settleMany,
    async extend(target, ownToken, ttlMs) {
      const [extended] = await settleMany([{ target, ownToken, extendMs: ttlMs }]);
      if (!extended) throw new LockNotHeldError({ keys: [keyOf(target)] });
    },
    async release(target, ownToken) {
      const [released] = await settleMany([{ target, ownToken, release: true }]);
      return released!;
    },

    async seal(target, sealToken, ttlMs) {
      token('seal token', sealToken);
      ttl(ttlMs);
      const reply = await redis.set(keyOf(target), sealToken, 'PX', ttlMs);
      if (reply !== 'OK') throw new UnexpectedReplyError({ script: 'SET', reply });
    },

    async remove(targets) {
      // One key per command: the keys need not share a slot.
      await Promise.all(targets.map((target) => redis.del(keyOf(target))));
    },

    async current(target) {
      const value = await redis.get(keyOf(target));
      return value === null ? null : (value.split(' ')[0] ?? null);
    },
  };
}

/** One member's reply of takeBranchLocks-N.lua. */
function takeResult(reply: unknown, ownToken: string): TakeLockResult {
  if (Array.isArray(reply)) {
    const [code, current, until] = reply as unknown[];
    if (code === LOCK_OUTCOMES.ACQUIRED && current === ownToken) return { status: 'acquired' };
    if (code === LOCK_OUTCOMES.RESUME && current === ownToken) return { status: 'resume' };
    if (code === LOCK_OUTCOMES.BUSY && current === ownToken && typeof until === 'string' && /^\d+$/.test(until))
      return { status: 'busy', until: Number(until) };
    if (code === LOCK_OUTCOMES.LOST && (current === undefined || typeof current === 'string'))
      return { status: 'lost', current: current ?? null };
  }
  throw new UnexpectedReplyError({ script: 'takeBranchLocks', reply });
}

function token(name: string, value: string): void {
  if (!TOKEN_PATTERN.test(value))
    throw new InvalidInputError(`${name} must be 1 to 64 letters, digits, "_", "-" or "."`, { [name]: value });
}

function ttl(value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidInputError('lock ttlMs must be a positive integer', { ttlMs: value });
}
