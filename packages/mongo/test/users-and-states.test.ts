import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareStreamIds,
  connectMongo,
  createJourneyStatesRepository,
  createUsersRepository,
  type EnterInput,
  type MongoStore,
} from '../src/index.js';

let store: MongoStore;
beforeAll(async () => {
  store = await connectMongo(testServers().mongoUri, uniqueName('states'));
});
afterAll(async () => {
  await store.db.dropDatabase();
  await store.close();
});

const t0 = new Date('2026-11-22T10:00:00Z');

describe('users repository', () => {
  it('merges attributes, removes null ones, and keeps the rest', async () => {
    const users = createUsersRepository(store.db);
    await users.mergeAttributes('u1', { plan: 'free', country: 'US' }, t0);
    const merged = await users.mergeAttributes('u1', { plan: 'pro', country: null, firstName: 'Ada' }, t0);
    expect(merged.attributes).toEqual({ plan: 'pro', firstName: 'Ada' });
    expect((await users.get('u1'))?.attributes).toEqual({ plan: 'pro', firstName: 'Ada' });
    expect(await users.get('nobody')).toBeNull();
  });

  it('creates a user whose first merge sets no attribute: an empty merge, or only removals', async () => {
    const users = createUsersRepository(store.db);
    expect((await users.mergeAttributes('u-empty', {}, t0)).attributes).toEqual({});
    expect((await users.mergeAttributes('u-removals', { plan: null }, t0)).attributes).toEqual({});
    expect((await users.mergeAttributes('u-removals', { plan: 'pro' }, t0)).attributes).toEqual({ plan: 'pro' });
    expect((await users.getOrCreate('u-empty', t0)).attributes).toEqual({});
  });

  it('applies each ingest record once, in stream order', async () => {
    const users = createUsersRepository(store.db);
    expect(await users.markRecordApplied('u2', '1700000000000-0', t0)).toBe(true);
    expect(await users.markRecordApplied('u2', '1700000000000-0', t0)).toBe(false);
    expect(await users.markRecordApplied('u2', '1700000000000-1', t0)).toBe(true);
    // Numerically older although longer as a string: still refused.
    expect(await users.markRecordApplied('u2', '999999999999-5', t0)).toBe(false);
    expect((await users.get('u2'))?.lastRecord).toBe('1700000000000-1');
  });

  it('compares stream ids as numbers', () => {
    expect(compareStreamIds('10-0', '9-0')).toBeGreaterThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-2')).toBe(0);
  });

  it('pages through users in id order', async () => {
    const db = store.client.db(uniqueName('paging'));
    const users = createUsersRepository(db);
    for (const id of ['p3', 'p1', 'p2']) await users.getOrCreate(id, t0);
    expect((await users.page(null, 2)).map((u) => u.userId)).toEqual(['p1', 'p2']);
    expect((await users.page('p2', 2)).map((u) => u.userId)).toEqual(['p3']);
    expect(await users.page('p3', 2)).toEqual([]);
    await db.dropDatabase();
  });

  it('reads many users by id at once, leaving out unknown ids', async () => {
    const db = store.client.db(uniqueName('many'));
    const users = createUsersRepository(db);
    await users.mergeAttributes('m1', { plan: 'free' }, t0);
    await users.getOrCreate('m2', t0);
    const found = await users.getMany(['m2', 'nope', 'm1']);
    expect(found.map((u) => [u.userId, u.attributes]).sort()).toEqual([
      ['m1', { plan: 'free' }],
      ['m2', {}],
    ]);
    expect(await users.getMany([])).toEqual([]);
    await db.dropDatabase();
  });
});

describe('journey states repository', () => {
  const entry = (over: Partial<EnterInput> = {}): EnterInput => ({
    journeyId: 'j1',
    userId: 'u1',
    version: 1,
    entryId: 'e1',
    stepId: 'welcome',
    token: 't0',
    trigger: { name: 'signed_up', properties: { source: 'ads' } },
    now: t0,
    ...over,
  });

  it('enters a user once at a time, and re-applying the same entry is recognised', async () => {
    const states = createJourneyStatesRepository(store.db);
    await states.ensureIndexes();
    expect(await states.enter(entry())).toBe('entered');
    expect(await states.enter(entry())).toBe('same-entry');
    expect(await states.enter(entry({ entryId: 'e2' }))).toBe('already-active');
    const state = await states.get('j1', 'u1');
    expect(state).toMatchObject({ status: 'active', entryId: 'e1', entries: 1, stepId: 'welcome', token: 't0' });
  });

  it('commits a step only for the token that owns the entry', async () => {
    const states = createJourneyStatesRepository(store.db);
    await states.enter(entry({ userId: 'u3' }));
    const base = { journeyId: 'j1', userId: 'u3', entryId: 'e1', now: t0.getTime() };
    expect(await states.commitEach([{ ...base, key: 'x', expectedToken: 'stale', token: 'x', stepId: 'wait', status: 'active' }])).toEqual([
      false,
    ]);
    expect(await states.commitEach([{ ...base, key: 't1', expectedToken: 't0', token: 't1', stepId: 'wait', status: 'active' }])).toEqual([
      true,
    ]);
    expect(await states.commitEach([{ ...base, key: 't2', expectedToken: 't1', token: 't2', stepId: null, status: 'completed' }])).toEqual([
      true,
    ]);
    expect(await states.get('j1', 'u3')).toMatchObject({ status: 'completed', stepId: null, token: 't2' });
    // The finished entry, re-applied, does not start again; a new entry does.
    expect(await states.enter(entry({ userId: 'u3' }))).toBe('same-entry');
    expect(await states.enter(entry({ userId: 'u3', entryId: 'e2', now: new Date(t0.getTime() + 1000) }))).toBe('entered');
    expect(await states.get('j1', 'u3')).toMatchObject({ status: 'active', entryId: 'e2', entries: 2, firstEnteredAt: t0 });
  });

  it('exits only the active entry it names', async () => {
    const states = createJourneyStatesRepository(store.db);
    await states.enter(entry({ userId: 'u4' }));
    expect(await states.exit('j1', 'u4', 'other', t0)).toBe(false);
    expect(await states.exit('j1', 'u4', 'e1', t0)).toBe(true);
    expect(await states.exit('j1', 'u4', 'e1', t0)).toBe(false);
    expect((await states.listForUser('u4')).map((s) => s.status)).toEqual(['exited']);
  });
});
