import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createJourneyStatesRepository, type MongoStore, type StepCommit } from '../src/index.js';

let store: MongoStore;
beforeAll(async () => {
  store = await connectMongo(testServers().mongoUri, uniqueName('commits'));
});
afterAll(async () => {
  await store.db.dropDatabase();
  await store.close();
});

const t0 = new Date('2026-11-22T10:00:00Z');

describe('journey states: committing a whole batch', () => {
  // A dispatch batch holds up to 200 members; the commits go in slices of 50, and a full batch commits whole.
  it('commits 120 members in one call, each only from the token it expects', async () => {
    const states = createJourneyStatesRepository(store.db);
    const userIds = Array.from({ length: 120 }, (_, index) => `user-${index}`);
    await states.enterMany(
      userIds.map((userId) => ({
        journeyId: 'j1',
        userId,
        version: 1,
        entryId: 'e1',
        stepId: 'welcome',
        token: '0',
        trigger: null,
        now: t0,
      })),
    );
    const commit = (userId: string, expectedToken: string, token: string): StepCommit => ({
      journeyId: 'j1',
      userId,
      entryId: 'e1',
      key: token,
      expectedToken,
      token,
      stepId: 'next',
      status: 'active',
      now: t0.getTime(),
    });

    expect(await states.commitEach(userIds.map((userId) => commit(userId, '0', '1')))).toEqual(userIds.map(() => true));
    // Again from the old token, later: a retried batch changes nothing.
    const retried = t0.getTime() + 1;
    expect(await states.commitEach(userIds.map((userId) => ({ ...commit(userId, '0', '1'), now: retried })))).toEqual(
      userIds.map(() => false),
    );
    const read = await states.listForJourney('j1', userIds);
    expect(read).toHaveLength(120);
    expect(read.every((state) => state.token === '1' && state.stepId === 'next')).toBe(true);
  });

  it('keeps the message a step ended with by the same write, tells which commits landed, and forgets it at re-entry', async () => {
    const states = createJourneyStatesRepository(store.db);
    const userIds = ['kept-1', 'kept-2', 'kept-3'];
    await states.enterMany(
      userIds.map((userId) => ({
        journeyId: 'j2',
        userId,
        version: 1,
        entryId: 'e1',
        stepId: 'welcome',
        token: '0',
        trigger: null,
        now: t0,
      })),
    );
    const record = {
      status: 'sent' as const,
      reason: null,
      attempts: 2,
      completedAt: t0.getTime(),
      token: null,
      visit: 1,
      firstAttemptAt: null,
      nextAttemptAt: null,
      lastError: null,
      branch: null,
      request: null,
    };
    const sent = { status: 'sent' as const, reason: null, attempts: 2, completedAt: t0 };
    const commit = (userId: string, expectedToken: string): StepCommit => ({
      journeyId: 'j2',
      userId,
      entryId: 'e1',
      key: '1',
      expectedToken,
      token: '1',
      stepId: null,
      status: 'completed',
      message: { stepId: 'welcome', record },
      now: t0.getTime(),
    });
    // kept-2 was moved on by a racing try (another token) before this batch's commit.
    await states.commitEach([
      {
        ...commit('kept-2', '0'),
        token: 'raced',
        status: 'active',
        stepId: 'next',
        message: { stepId: 'welcome', record: { ...record, attempts: 1 } },
      },
    ]);

    expect(await states.commitEach(userIds.map((userId) => commit(userId, '0')))).toEqual([true, false, true]);
    // Replayed later from the old token (a retried try): it changes nothing, and is told so.
    expect(await states.commitEach([{ ...commit('kept-1', '0'), now: t0.getTime() + 1 }])).toEqual([false]);
    const kept = { token: null, visit: 1, firstAttemptAt: null, nextAttemptAt: null, lastError: null, branch: null, request: null };
    expect(await states.get('j2', 'kept-1')).toMatchObject({
      status: 'completed',
      token: '1',
      messages: { welcome: { ...sent, ...kept } },
    });
    expect((await states.get('j2', 'kept-2'))?.messages).toEqual({ welcome: { ...sent, ...kept, attempts: 1 } });
    expect(await states.commitEach([])).toEqual([]);

    const later = new Date(t0.getTime() + 60_000);
    expect(
      await states.enter({
        journeyId: 'j2',
        userId: 'kept-1',
        version: 1,
        entryId: 'e2',
        stepId: 'welcome',
        token: '0',
        trigger: null,
        now: later,
      }),
    ).toBe('entered');
    expect((await states.get('j2', 'kept-1'))?.messages).toEqual({});
  });
});
