import type { JourneyState, SendRecord, User } from '@journey/mongo';
import DataLoader from 'dataloader';
import type { DispatchDeps } from './dispatch-batch.js';

/**
 * One batch's reads and send records, coalesced (DataLoader): members run concurrently, and what they ask for within
 * a few milliseconds of each other is one query by key (`_id $in`) or one insert, instead of one round trip each.
 * Nothing is cached: every load reads what the store holds now.
 */
export interface BatchLoaders {
  /** The member's state in the batch's journey, by user id. */
  state: DataLoader<string, JourneyState | null>;
  user: DataLoader<string, User | null>;
  /** How an earlier try of the message ended, by message id; null when none did. */
  recorded: DataLoader<string, 'sent' | 'failed' | 'skipped' | null>;
  /**
   * Writes the record; resolves once it is written, with whether a racing try had recorded the message first. A
   * member goes on only then, so a crash re-posts no more than the sends in flight and those of the last few
   * milliseconds, as a write per send would, at the cost of one write per burst.
   */
  record: DataLoader<SendRecord, { recordedBefore: boolean }, string>;
}

/** How long a load waits for others to join its query; a record waits a little longer, for a burst of replies. */
const READ_WAIT_MS = 2;
const RECORD_WAIT_MS = 5;

function options<K, C = K>(waitMs: number, cacheKeyFn?: (key: K) => C): DataLoader.Options<K, never, C> {
  return { cache: false, maxBatchSize: 200, batchScheduleFn: (callback) => setTimeout(callback, waitMs), ...(cacheKeyFn ? { cacheKeyFn } : {}) };
}

function byKey<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [keyOf(item), item]));
}

export function createBatchLoaders(deps: Pick<DispatchDeps, 'states' | 'users' | 'deliveries'>, journeyId: string): BatchLoaders {
  return {
    state: new DataLoader(async (userIds) => {
      const found = byKey(await deps.states.listForJourney(journeyId, userIds), (state) => state.userId);
      return userIds.map((userId) => found.get(userId) ?? null);
    }, options(READ_WAIT_MS)),
    user: new DataLoader(async (userIds) => {
      const found = byKey(await deps.users.getMany(userIds), (user) => user.userId);
      return userIds.map((userId) => found.get(userId) ?? null);
    }, options(READ_WAIT_MS)),
    recorded: new DataLoader(async (messageIds) => {
      const found = await deps.deliveries.recordedMany(messageIds);
      return messageIds.map((messageId) => found.get(messageId) ?? null);
    }, options(READ_WAIT_MS)),
    record: new DataLoader(
      async (records) => {
        const before = new Set(await deps.deliveries.record(records));
        return records.map((record) => ({ recordedBefore: before.has(record.messageId) }));
      },
      options(RECORD_WAIT_MS, (record: SendRecord) => record.messageId),
    ),
  };
}
