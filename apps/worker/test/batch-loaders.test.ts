import type { JourneyState, StepCommit, User } from '@journey/mongo';
import { describe, expect, it } from 'vitest';
import { createBatchLoaders } from '../src/dispatch/batch-loaders.js';

const at = new Date('2026-12-04T12:00:00Z');
const user = (userId: string): User => ({ userId, attributes: {}, lastRecord: null, erased: false, createdAt: at, updatedAt: at });
const commit = (userId: string): StepCommit => ({
  key: 'test',
  journeyId: 'j1',
  userId,
  entryId: 'e',
  expectedToken: '0',
  token: '1',
  stepId: null,
  status: 'completed',
  now: at.getTime(),
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
        commitEach: async (commits: StepCommit[]) => {
          calls.push(`commit ${commits.map((c) => c.userId).join(',')}`);
          return commits.map((c) => c.userId !== 'raced');
        },
      },
      users: {
        getMany: async (userIds: readonly string[]) => {
          calls.push(`users ${userIds.join(',')}`);
          return userIds.filter((id) => id !== 'gone').map(user);
        },
        applyUpdate: () => Promise.reject(new Error('no user_update here')),
      },
    },
  };
}

describe('batch loaders', () => {
  it('reads what concurrent members ask for in one query per store, in the order asked, null for what is missing', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1');
    const [states, users] = await Promise.all([
      Promise.all(['a', 'gone', 'b'].map((id) => loaders.state.load(id))),
      Promise.all(['a', 'gone'].map((id) => loaders.user.load(id))),
    ]);
    expect(states.map((state) => state?.userId ?? null)).toEqual(['a', null, 'b']);
    expect(users.map((found) => found?.userId ?? null)).toEqual(['a', null]);
    expect(calls.sort()).toEqual(['states j1 a,gone,b', 'users a,gone']);
  });

  it('commits members that finish together in one write and tells each whether its commit landed', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1');
    expect(await Promise.all(['a', 'raced'].map((id) => loaders.commit.load(commit(id))))).toEqual([true, false]);
    expect(await loaders.commit.load(commit('b'))).toBe(true);
    expect(calls).toEqual(['commit a,raced', 'commit b']);
  });

  it('reads again on every load: nothing is cached between a member and the next', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1');
    await loaders.user.load('a');
    await loaders.user.load('a');
    expect(calls).toEqual(['users a', 'users a']);
  });
});
