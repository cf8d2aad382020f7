import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createJourneyStatesRepository, createUsersRepository, previousStreamId, type MongoStore } from '../src/index.js';

let store: MongoStore;
beforeAll(async () => {
  store = await connectMongo(testServers().mongoUri, uniqueName('updates'));
});
afterAll(async () => {
  await store.db.dropDatabase();
  await store.close();
});

const t0 = new Date('2026-11-22T10:00:00Z');

describe('user updates, conversions and erasure', () => {
  it('applies a user_update once per key, however often its visit is retried', async () => {
    const users = createUsersRepository(store.db);
    await users.mergeAttributes('up', { plan: 'free', coupon: 'X', visits: 1 }, t0);
    const change = { key: 'j1:e1:2', set: { plan: 'pro', visits: 2 }, unset: ['coupon'] };
    expect((await users.applyUpdate('up', change, t0))?.attributes).toEqual({ plan: 'pro', visits: 2 });
    await users.mergeAttributes('up', { plan: 'basic' }, t0);
    // The retry of the same visit changes nothing, and reads the user as it is.
    expect((await users.applyUpdate('up', { ...change, set: { plan: 'pro', visits: 3 } }, t0))?.attributes).toEqual({
      plan: 'basic',
      visits: 2,
    });
    expect((await users.applyUpdate('up', { key: 'j1:e1:5', set: { visits: 3 }, unset: [] }, t0))?.attributes.visits).toBe(3);
    expect(await users.applyUpdate('nobody', change, t0)).toBeNull();
  });

  it('marks an entry converted once, returning the path it had reached', async () => {
    const states = createJourneyStatesRepository(store.db);
    await states.enter({ journeyId: 'j1', userId: 'cv', version: 1, entryId: 'e1', stepId: 'a', token: '0', trigger: null, now: t0 });
    await states.commitEach([
      {
        key: '0',
        journeyId: 'j1',
        userId: 'cv',
        entryId: 'e1',
        expectedToken: '0',
        token: '1',
        stepId: 'b',
        status: 'active',
        path: { steps: ['a', 'ab'], branches: ['ab:control'] },
        now: t0.getTime(),
      },
    ]);
    expect(await states.convert('j1', 'cv', 'other', t0)).toBeNull();
    expect(await states.convert('j1', 'cv', 'e1', t0)).toEqual({ steps: ['a', 'ab'], branches: ['ab:control'] });
    expect(await states.convert('j1', 'cv', 'e1', t0)).toBeNull();
    expect((await states.get('j1', 'cv'))?.convertedAt).toEqual(t0);
  });

  it('erases a user into a tombstone that holds back their earlier records, until written again', async () => {
    const users = createUsersRepository(store.db);
    const states = createJourneyStatesRepository(store.db);
    await users.mergeAttributes('er', { firstName: 'Ada' }, t0);
    await states.enter({ journeyId: 'j1', userId: 'er', version: 1, entryId: 'e1', stepId: 'a', token: '0', trigger: null, now: t0 });
    expect(await users.erase('er', '1800000000000-5', t0)).toBe(true);
    expect(await states.deleteForUser('er')).toEqual([{ journeyId: 'j1', entryId: 'e1' }]);
    expect(await users.get('er')).toBeNull();
    expect(await users.getMany(['er'])).toEqual([]);
    expect(await users.page(null, 100)).not.toContainEqual(expect.objectContaining({ userId: 'er' }));
    // Records up to the erase record are passed over; a later one is applied.
    expect(await users.markRecordApplied('er', '1800000000000-4', t0)).toBe(false);
    expect(await users.erase('er', '1800000000000-5', t0)).toBe(false);
    // Erasing again moves the mark forward by number, not by text ("-10" is after "-9").
    expect(await users.erase('er', '1800000000000-10', t0)).toBe(false);
    expect(await users.markRecordApplied('er', '1800000000000-9', t0)).toBe(false);
    expect(await users.markRecordApplied('er', '1800000000000-11', t0)).toBe(true);
    expect(await users.get('er')).toBeNull();
    // The app writes the user again: a new profile.
    expect((await users.mergeAttributes('er', { firstName: 'Bo' }, t0)).attributes).toEqual({ firstName: 'Bo' });
    expect((await users.get('er'))?.attributes).toEqual({ firstName: 'Bo' });
  });

  it("keeps each concurrent change of a user's mutes, and a mute revives an erased user", async () => {
    const users = createUsersRepository(store.db);
    expect((await users.updateMuted('mu', { muted: ['news'] }, t0)).muted).toEqual(['news']);
    // Writers racing on one list: every change lands, none overwrites another.
    const types = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(types.map((type) => users.updateMuted('mu', { muted: [type] }, t0)));
    expect((await users.getMany(['mu']))[0]?.muted).toEqual([...types, 'news']);
    expect((await users.updateMuted('mu', { muted: ['z'], unmuted: ['a', 'news'] }, t0)).muted).toEqual(['b', 'c', 'd', 'e', 'f', 'z']);
    // Racing first writes of an unknown user both land too.
    await Promise.all([users.updateMuted('new', { muted: ['x'] }, t0), users.updateMuted('new', { muted: ['y'] }, t0)]);
    expect((await users.getMany(['new']))[0]?.muted).toEqual(['x', 'y']);

    await users.erase('mu', '0-1', t0);
    const revived = await users.updateMuted('mu', { muted: ['news'] }, t0);
    expect(revived).toMatchObject({ erased: false, muted: ['news'], attributes: {} });
  });

  it('creates the users that do not exist, leaving the others as they are', async () => {
    const users = createUsersRepository(store.db);
    await users.mergeAttributes('cm-1', { plan: 'pro' }, t0);
    await users.createMany(['cm-1', 'cm-2', 'cm-3'], t0);
    const found = await users.getMany(['cm-1', 'cm-2', 'cm-3']);
    const byId = found.sort((a, b) => a.userId.localeCompare(b.userId));
    expect(byId.map((user) => [user.userId, user.attributes])).toEqual([
      ['cm-1', { plan: 'pro' }],
      ['cm-2', {}],
      ['cm-3', {}],
    ]);
  });

  it('names the stream id just before another', () => {
    expect(previousStreamId('1800000000000-5')).toBe('1800000000000-4');
    expect(previousStreamId('1800000000000-0')).toBe(`1799999999999-${Number.MAX_SAFE_INTEGER}`);
  });
});
