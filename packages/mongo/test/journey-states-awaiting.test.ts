import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createJourneyStatesRepository, type ActionEventClaim, type EnterInput, type MongoStore } from '../src/index.js';

let store: MongoStore;
beforeAll(async () => {
  store = await connectMongo(testServers().mongoUri, uniqueName('awaiting'));
});
afterAll(async () => {
  await store.db.dropDatabase();
  await store.close();
});

const t0 = new Date('2026-11-22T10:00:00Z');
const deadline = new Date('2026-11-22T11:00:00Z');

const entry = (userId: string, over: Partial<EnterInput> = {}): EnterInput => ({
  journeyId: 'j1',
  userId,
  version: 1,
  entryId: 'e1',
  stepId: 'welcome',
  token: '0',
  trigger: null,
  now: t0,
  ...over,
});

/** Enters the user and commits them onto an awaiting step with token "1", as the dispatcher does. */
async function awaitingUser(userId: string) {
  const states = createJourneyStatesRepository(store.db);
  await states.enter(entry(userId));
  const committed = await states.commitEach([
    {
      journeyId: 'j1',
      userId,
      entryId: 'e1',
      key: '1',
      expectedToken: '0',
      token: '1',
      stepId: 'act',
      status: 'active',
      awaiting: { stepId: 'act', token: '1', deadline: deadline.getTime() },
      now: t0.getTime(),
    },
  ]);
  expect(committed).toEqual([true]);
  return states;
}

const claim = (userId: string, over: Partial<ActionEventClaim> = {}): ActionEventClaim => ({
  journeyId: 'j1',
  userId,
  entryId: 'e1',
  awaitingToken: '1',
  recordId: '1700000000000-0',
  name: 'purchased',
  properties: { item: 'T-shirt' },
  now: t0,
  ...over,
});

describe('journey states: entering many users', () => {
  it('inserts users without a state and decides the others like enter, in input order', async () => {
    const states = createJourneyStatesRepository(store.db);
    const many = (userId: string, over: Partial<EnterInput> = {}) => entry(userId, { journeyId: 'bulk', ...over });
    await states.enter(many('active'));
    await states.enter(many('same'));
    await states.enter(many('ended'));
    await states.exit('bulk', 'ended', 'e1', t0);
    const later = new Date(t0.getTime() + 60_000);
    const results = await states.enterMany([
      many('new1', { entryId: 'e9', now: later }),
      many('active', { entryId: 'e9', now: later }),
      many('same', { entryId: 'e1', now: later }),
      many('ended', { entryId: 'e9', now: later }),
      many('new2', { entryId: 'e9', now: later }),
    ]);
    expect(results).toEqual(['entered', 'already-active', 'same-entry', 'entered', 'entered']);
    expect(await states.get('bulk', 'new1')).toEqual({
      journeyId: 'bulk',
      userId: 'new1',
      status: 'active',
      version: 1,
      entryId: 'e9',
      stepId: 'welcome',
      token: '0',
      trigger: null,
      awaiting: null,
      actionEvent: null,
      messages: {},
      lastCommit: null,
      path: { steps: [], branches: [] },
      convertedAt: null,
      firstEnteredAt: later,
      lastEnteredAt: later,
      entries: 1,
      updatedAt: later,
      endedAt: null,
    });
    expect(await states.get('bulk', 'ended')).toMatchObject({
      status: 'active',
      entryId: 'e9',
      entries: 2,
      firstEnteredAt: t0,
      lastEnteredAt: later,
    });
    expect(await states.get('bulk', 'active')).toMatchObject({ entryId: 'e1', entries: 1 });
    expect(await states.enterMany([])).toEqual([]);
  });
});

describe('journey states: awaiting an action_paths step', () => {
  it('a new entry awaits nothing; a commit sets the wait and the next commit clears it', async () => {
    const states = await awaitingUser('u1');
    expect(await states.get('j1', 'u1')).toMatchObject({ awaiting: { stepId: 'act', token: '1', deadline }, actionEvent: null });
    await states.commitEach([
      {
        journeyId: 'j1',
        userId: 'u1',
        entryId: 'e1',
        key: '2.timeout',
        expectedToken: '1',
        token: '2.timeout',
        stepId: 'ab',
        status: 'active',
        now: t0.getTime(),
      },
    ]);
    expect((await states.get('j1', 'u1'))?.awaiting).toBeNull();
  });

  it('the first matching event claims the wait; a retry of the same record still holds it; a later event does not', async () => {
    const states = await awaitingUser('u2');
    expect(await states.claimActionEvent(claim('u2'))).toBe(true);
    expect(await states.claimActionEvent(claim('u2'))).toBe(true);
    expect(await states.claimActionEvent(claim('u2', { recordId: '1700000000000-1', properties: { item: 'Hat' } }))).toBe(false);
    expect((await states.get('j1', 'u2'))?.actionEvent).toEqual({
      token: '1',
      recordId: '1700000000000-0',
      name: 'purchased',
      properties: { item: 'T-shirt' },
    });

    // The stored event survives the path's commit (templates after the path read it) and a retried claim still finds it.
    await states.commitEach([
      {
        journeyId: 'j1',
        userId: 'u2',
        entryId: 'e1',
        key: '2.bought',
        expectedToken: '1',
        token: '2.bought',
        stepId: 'thanks',
        status: 'active',
        now: t0.getTime(),
      },
    ]);
    expect(await states.claimActionEvent(claim('u2'))).toBe(true);
    expect((await states.get('j1', 'u2'))?.actionEvent?.properties).toEqual({ item: 'T-shirt' });
  });

  it('claims nothing for a token, entry or state that does not wait', async () => {
    const states = await awaitingUser('u3');
    expect(await states.claimActionEvent(claim('u3', { awaitingToken: '7' }))).toBe(false);
    expect(await states.claimActionEvent(claim('u3', { entryId: 'other' }))).toBe(false);
    expect(await states.claimActionEvent(claim('nobody'))).toBe(false);
    expect(await states.exit('j1', 'u3', 'e1', t0)).toBe(true);
    expect(await states.get('j1', 'u3')).toMatchObject({ status: 'exited', awaiting: null, actionEvent: null });
    expect(await states.claimActionEvent(claim('u3'))).toBe(false);
  });

  it("a new entry starts without the previous entry's wait or event", async () => {
    const states = await awaitingUser('u4');
    await states.claimActionEvent(claim('u4'));
    await states.exit('j1', 'u4', 'e1', t0);
    expect(await states.enter(entry('u4', { entryId: 'e2' }))).toBe('entered');
    expect(await states.get('j1', 'u4')).toMatchObject({ entryId: 'e2', awaiting: null, actionEvent: null });
  });

  it('lists the states of many users in one journey', async () => {
    const states = createJourneyStatesRepository(store.db);
    await states.enter(entry('m1', { journeyId: 'j2' }));
    await states.enter(entry('m2', { journeyId: 'j2' }));
    await states.enter(entry('m1', { journeyId: 'j3' }));
    const found = await states.listForJourney('j2', ['m1', 'm2', 'm3']);
    expect(found.map((state) => `${state.journeyId}:${state.userId}`).sort()).toEqual(['j2:m1', 'j2:m2']);
    expect(await states.listForJourney('j2', [])).toEqual([]);
  });
});
