import type { JourneyState, SendRecord, User } from '@journey/mongo';
import { describe, expect, it } from 'vitest';
import { createBatchLoaders } from '../src/dispatch/batch-loaders.js';

const at = new Date('2026-12-04T12:00:00Z');
const user = (userId: string): User => ({ userId, attributes: {}, lastRecord: null, createdAt: at, updatedAt: at });
const record = (messageId: string): SendRecord => ({
  messageId,
  journeyId: 'j',
  version: 1,
  stepId: 's',
  branchId: null,
  userId: 'u',
  entryId: 'e',
  messageType: 't',
  url: 'http://x/',
  status: 'sent',
  reason: null,
  attempts: [],
  createdAt: at,
  completedAt: at,
});

/** Stores that answer from memory and log every call, to see how loads were grouped. */
function fakeDeps() {
  const calls: string[] = [];
  return {
    calls,
    deps: {
      states: {
        listForJourney: async (journeyId: string, userIds: readonly string[]) => {
          calls.push(`states ${journeyId} ${userIds.join(',')}`);
          return userIds.filter((id) => id !== 'gone').map((userId) => ({ userId, journeyId }) as JourneyState);
        },
        exit: async () => false,
        commitMany: async () => 0,
      },
      users: {
        getMany: async (userIds: readonly string[]) => {
          calls.push(`users ${userIds.join(',')}`);
          return userIds.filter((id) => id !== 'gone').map(user);
        },
      },
      deliveries: {
        recordedMany: async (messageIds: readonly string[]) => {
          calls.push(`recorded ${messageIds.join(',')}`);
          return new Map([['m-failed', 'failed' as const]]);
        },
        record: async (records: readonly SendRecord[]) => {
          calls.push(`record ${records.map((r) => r.messageId).join(',')}`);
          return ['m-raced'];
        },
        send: async () => record('never'),
        skip: () => record('never'),
        sentSince: async () => [],
      },
    },
  };
}

describe('batch loaders', () => {
  it('reads what concurrent members ask for in one query per store, in the order asked, null for what is missing', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1');
    const [states, users, recorded] = await Promise.all([
      Promise.all(['a', 'gone', 'b'].map((id) => loaders.state.load(id))),
      Promise.all(['a', 'gone'].map((id) => loaders.user.load(id))),
      Promise.all(['m1', 'm-failed'].map((id) => loaders.recorded.load(id))),
    ]);
    expect(states.map((state) => state?.userId ?? null)).toEqual(['a', null, 'b']);
    expect(users.map((found) => found?.userId ?? null)).toEqual(['a', null]);
    expect(recorded).toEqual([null, 'failed']);
    expect(calls.sort()).toEqual(['recorded m1,m-failed', 'states j1 a,gone,b', 'users a,gone']);
  });

  it('writes records that end together in one write and tells each whether a racing try recorded it first', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1');
    const results = await Promise.all(['m1', 'm-raced'].map((id) => loaders.record.load(record(id))));
    expect(results).toEqual([{ recordedBefore: false }, { recordedBefore: true }]);
    await loaders.record.load(record('m2'));
    expect(calls).toEqual(['record m1,m-raced', 'record m2']);
  });

  it('reads again on every load: nothing is cached between a member and the next', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1');
    await loaders.user.load('a');
    await loaders.user.load('a');
    expect(calls).toEqual(['users a', 'users a']);
  });
});
