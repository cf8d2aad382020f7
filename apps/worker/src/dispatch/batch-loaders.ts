import type { JourneyState, StepCommit, User } from '@journey/mongo';
import type { LockClaim, LockSettlement, TakeLockResult } from '@journey/redis';
import DataLoader from 'dataloader';
import type { DispatchDeps } from './dispatch-batch.js';

/**
 * One batch's reads, writes and lock scripts, coalesced (DataLoader): members run concurrently, and what they ask
 * for within a few milliseconds of each other is one query by key (`_id $in`), one bulk write or one Redis script
 * for all of them (a batch's members share their due shard's hash tag), instead of one round trip each. Nothing is
 * cached: every load reads what the store holds now.
 */
export interface BatchLoaders {
  /** The member's state in the batch's journey, by user id. */
  state: DataLoader<string, JourneyState | null>;
  user: DataLoader<string, User | null>;
  /**
   * Commits the member's step (its new state, and the message it ended with); resolves once written, with whether
   * this commit landed (false: a racing try moved the entry on first, or it ended). A member goes on only then, so
   * a crash re-posts no more than the sends in flight and those of the last few milliseconds, as a write per send
   * would, at the cost of one bulk write per burst.
   */
  commit: DataLoader<StepCommit, boolean>;
  /** Takes the member's branch lock with this try's lease, which starts when the script runs (`leaseStart`, epoch ms). */
  lock: DataLoader<LockClaim, { lock: TakeLockResult; leaseStart: number }>;
  /** Extends or releases the member's lock past its send; false when it no longer held the member's token. */
  settle: DataLoader<LockSettlement, boolean>;
}

/** How long a load waits for others to join its query; a commit waits a little longer, for a burst of replies. */
const READ_WAIT_MS = 2;
const COMMIT_WAIT_MS = 5;

function options<K>(waitMs: number | null): DataLoader.Options<K, never, K> {
  // null: the loads of one tick (members that start together) make one call.
  return { cache: false, maxBatchSize: 200, ...(waitMs === null ? {} : { batchScheduleFn: (callback) => setTimeout(callback, waitMs) }) };
}

function byKey<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [keyOf(item), item]));
}

export function createBatchLoaders(
  deps: Pick<DispatchDeps, 'states' | 'users' | 'branchLock' | 'now'>,
  journeyId: string,
  lease: { tryId: string; ms: number; lockTtlMs: number },
): BatchLoaders {
  return {
    state: new DataLoader(async (userIds) => {
      const found = byKey(await deps.states.listForJourney(journeyId, userIds), (state) => state.userId);
      return userIds.map((userId) => found.get(userId) ?? null);
    }, options(READ_WAIT_MS)),
    user: new DataLoader(async (userIds) => {
      const found = byKey(await deps.users.getMany(userIds), (user) => user.userId);
      return userIds.map((userId) => found.get(userId) ?? null);
    }, options(READ_WAIT_MS)),
    commit: new DataLoader((commits) => deps.states.commitEach([...commits]), options(COMMIT_WAIT_MS)),
    lock: new DataLoader(async (claims) => {
      const leaseStart = deps.now();
      const locks = await deps.branchLock.takeMany(claims, lease.lockTtlMs, { now: leaseStart, ms: lease.ms, tryId: lease.tryId });
      return locks.map((lock) => ({ lock, leaseStart }));
    }, options(null)),
    settle: new DataLoader((settlements) => deps.branchLock.settleMany(settlements), options(READ_WAIT_MS)),
  };
}
