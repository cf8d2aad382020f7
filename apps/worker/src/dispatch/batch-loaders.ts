import type { JourneyState, StepCommit, User } from '@journey/mongo';
import DataLoader from 'dataloader';
import type { DispatchDeps } from './dispatch-batch.js';

/**
 * One batch's reads and commits, coalesced (DataLoader): members run concurrently, and what they ask for within a
 * few milliseconds of each other is one query by key (`_id $in`) or one bulk write, instead of one round trip each.
 * Nothing is cached: every load reads what the store holds now.
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
}

/** How long a load waits for others to join its query; a commit waits a little longer, for a burst of replies. */
const READ_WAIT_MS = 2;
const COMMIT_WAIT_MS = 5;

function options<K>(waitMs: number): DataLoader.Options<K, never, K> {
  return { cache: false, maxBatchSize: 200, batchScheduleFn: (callback) => setTimeout(callback, waitMs) };
}

function byKey<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [keyOf(item), item]));
}

export function createBatchLoaders(deps: Pick<DispatchDeps, 'states' | 'users'>, journeyId: string): BatchLoaders {
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
  };
}
