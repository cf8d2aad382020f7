import { testServers, uniqueName } from '@journey/embedded/testing';
import type { CommandStartedEvent, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createJourneyStatesRepository, createUsersRepository, type MongoStore, type StepCommit } from '../src/index.js';

/**
 * On a sharded cluster, `journey_states` is sharded on { userId: "hashed" } and `users` on { _id: "hashed" }: a filter
 * that names the shard key goes to the shards that hold it, an upsert must name it, and a filter without it asks
 * every shard. Here every command the repositories send is watched (the driver's command monitoring) and every
 * filter must name its collection's shard key.
 */
let store: MongoStore;
const commands: CommandStartedEvent[] = [];
beforeAll(async () => {
  store = await connectMongo(testServers().mongoUri, uniqueName('shardkeys'), { monitorCommands: true });
  store.client.on('commandStarted', (event) => commands.push(event));
});
afterAll(async () => {
  await store.db.dropDatabase();
  await store.close();
});

const t0 = new Date('2026-12-06T10:00:00Z');

/** The filters (and inserted documents) of the commands sent to `collection` since `from`. */
function filtersOf(collection: string, from: number): Array<{ command: string; filter: Document }> {
  return commands.slice(from).flatMap(({ commandName, command }) => {
    if (command[commandName] !== collection) return [];
    switch (commandName) {
      case 'find':
      case 'count':
        return [{ command: commandName, filter: (command.filter ?? command.query ?? {}) as Document }];
      case 'findAndModify':
        return [{ command: commandName, filter: command.query as Document }];
      case 'update':
      case 'delete':
        return (command[`${commandName}s`] as Array<{ q: Document }>).map(({ q }) => ({ command: commandName, filter: q }));
      case 'insert':
        return (command.documents as Document[]).map((document) => ({ command: commandName, filter: document }));
      default:
        return [{ command: commandName, filter: {} }];
    }
  });
}

describe('shard keys in every filter', () => {
  it('journey_states: every read and write names the user (shard key { userId: "hashed" })', async () => {
    const states = createJourneyStatesRepository(store.db);
    await states.ensureIndexes();
    const from = commands.length;
    const enter = (userId: string, entryId = 'e1') => ({
      journeyId: 'j1',
      userId,
      version: 1,
      entryId,
      stepId: 'wait',
      token: '0',
      trigger: null,
      now: t0,
    });
    expect(await states.enter(enter('ada'))).toBe('entered');
    // The same entry again: the upsert collides and the state is read back.
    expect(await states.enter(enter('ada'))).toBe('same-entry');
    expect(await states.enterMany([enter('bo'), enter('ada', 'e2')])).toEqual(['entered', 'already-active']);
    await states.get('j1', 'ada');
    await states.listForUser('ada');
    await states.listForJourney('j1', ['ada', 'bo', 'cy']);
    const commit = (userId: string, expectedToken: string): StepCommit => ({
      journeyId: 'j1',
      userId,
      entryId: 'e1',
      key: `k-${userId}`,
      expectedToken,
      token: '1',
      stepId: 'act',
      status: 'active',
      awaiting: { stepId: 'act', token: '1', deadline: t0.getTime() + 60_000 },
      now: t0.getTime(),
    });
    // One commit lands, one does not (wrong token): the states are read back to tell which.
    expect(await states.commitEach([commit('ada', '0'), commit('bo', 'x')])).toEqual([true, false]);
    const claim = { journeyId: 'j1', entryId: 'e1', awaitingToken: '1', recordId: '1-0', name: 'bought', properties: {}, now: t0 };
    expect(await states.claimActionEvent({ ...claim, userId: 'ada' })).toBe(true);
    expect(await states.claimActionEvent({ ...claim, userId: 'bo' })).toBe(false);
    expect(await states.exit('j1', 'ada', 'e1', t0)).toBe(true);
    await states.convert('j1', 'bo', 'e1', t0);
    await states.deleteForUser('bo');

    const filters = filtersOf('journey_states', from);
    expect(new Set(filters.map(({ command }) => command))).toEqual(new Set(['update', 'find', 'insert', 'findAndModify', 'delete']));
    expect(filters.filter(({ filter }) => !('userId' in filter))).toEqual([]);
  });

  // The walk of every user for a schedule trigger (`page`, by `_id` range) asks every shard: it runs in the background.
  it('users: every read and write names the user (shard key { _id: "hashed" })', async () => {
    const users = createUsersRepository(store.db);
    const from = commands.length;
    await users.mergeAttributes('ada', { plan: 'pro' }, t0);
    await users.get('ada');
    await users.getMany(['ada', 'bo']);
    await users.getOrCreate('bo', t0);
    await users.markRecordApplied('bo', '1-0', t0);
    await users.createMany(['cy', 'ada'], t0);
    await users.applyUpdate('cy', { key: 'j1:e1:1', set: { plan: 'pro' }, unset: [] }, t0);
    await users.updateMuted('cy', { muted: ['promo'] }, t0);
    await users.erase('cy', '2-0', t0);
    await users.revive('cy', t0);
    const filters = filtersOf('users', from);
    expect(filters.length).toBeGreaterThanOrEqual(12);
    expect(filters.filter(({ filter }) => !('_id' in filter))).toEqual([]);
  });
});
