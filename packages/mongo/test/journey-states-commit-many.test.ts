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
  // A dispatch batch holds up to 200 members. FerretDB v1 (the embedded server) never answered one update command
  // of 100 statements or more; the commits go in slices, so a full batch commits on every server.
  it('commits 120 members in one call, each only from the token it expects', async () => {
    const states = createJourneyStatesRepository(store.db);
    const userIds = Array.from({ length: 120 }, (_, index) => `user-${index}`);
    await states.enterMany(userIds.map((userId) => ({ journeyId: 'j1', userId, version: 1, entryId: 'e1', stepId: 'welcome', token: '0', trigger: null, now: t0 })));
    const commit = (userId: string, expectedToken: string, token: string): StepCommit => ({
      journeyId: 'j1',
      userId,
      entryId: 'e1',
      expectedToken,
      token,
      stepId: 'next',
      status: 'active',
      now: t0,
    });

    expect(await states.commitMany(userIds.map((userId) => commit(userId, '0', '1')))).toBe(120);
    // Again from the old token: a retried batch changes nothing.
    expect(await states.commitMany(userIds.map((userId) => commit(userId, '0', '1')))).toBe(0);
    const read = await states.listForJourney('j1', userIds);
    expect(read).toHaveLength(120);
    expect(read.every((state) => state.token === '1' && state.stepId === 'next')).toBe(true);
    expect(await states.commitMany([])).toBe(0);
  });
});
