import type { JourneyState, StepCommit, User } from '@journey/mongo';
import type { BranchLock, LockClaim, LockLease, LockSettlement } from '@journey/redis';
import { describe, expect, it } from 'vitest';
import { createBatchLoaders } from '../src/dispatch/batch-loaders.js';

const at = new Date('2026-12-04T12:00:00Z');
const user = (userId: string): User => ({
  userId,
  attributes: {},
  muted: [],
  lastRecord: null,
  erased: false,
  createdAt: at,
  updatedAt: at,
});
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
      branchLock: {
        takeMany: async (claims: readonly LockClaim[], _ttlMs: number, lease?: LockLease) => {
          calls.push(`take ${claims.map((claim) => claim.target.userId).join(',')} at ${lease?.now}`);
          return claims.map(() => ({ status: 'acquired' as const }));
        },
        settleMany: async (settlements: readonly LockSettlement[]) => {
          calls.push(`settle ${settlements.map((each) => each.target.userId).join(',')}`);
          return settlements.map((each) => each.target.userId !== 'raced');
        },
      } as unknown as BranchLock,
      now: () => 1_000,
    },
  };
}

const LEASE = { tryId: 'try1', ms: 30_000, lockTtlMs: 60_000 };
const target = (userId: string) => ({ journeyId: 'j1', userId, entryId: 'e' });

describe('batch loaders', () => {
  it('reads what concurrent members ask for in one query per store, in the order asked, null for what is missing', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1', LEASE);
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
    const loaders = createBatchLoaders(deps, 'j1', LEASE);
    expect(await Promise.all(['a', 'raced'].map((id) => loaders.commit.load(commit(id))))).toEqual([true, false]);
    expect(await loaders.commit.load(commit('b'))).toBe(true);
    expect(calls).toEqual(['commit a,raced', 'commit b']);
  });

  it('takes the locks of members that start together with one script, and settles those that finish together with one', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1', LEASE);
    const taken = await Promise.all(
      ['a', 'b', 'c'].map((id) => loaders.lock.load({ target: target(id), expectedToken: '', ownToken: '0' })),
    );
    expect(taken).toEqual(['a', 'b', 'c'].map(() => ({ lock: { status: 'acquired' }, leaseStart: 1_000 })));
    const settled = await Promise.all(
      ['a', 'raced'].map((id) => loaders.settle.load({ target: target(id), ownToken: '0', extendMs: 1_000 })),
    );
    expect(settled).toEqual([true, false]);
    expect(calls).toEqual(['take a,b,c at 1000', 'settle a,raced']);
  });

  it('reads again on every load: nothing is cached between a member and the next', async () => {
    const { deps, calls } = fakeDeps();
    const loaders = createBatchLoaders(deps, 'j1', LEASE);
    await loaders.user.load('a');
    await loaders.user.load('a');
    expect(calls).toEqual(['users a', 'users a']);
  });
});
