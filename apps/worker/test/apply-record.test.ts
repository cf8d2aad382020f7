import { entryIdFor, EXIT_TOKEN, validateJourney, type IngestRecord } from '@journey/core';
import { previousStreamId } from '@journey/mongo';
import { uniqueName } from '@journey/embedded/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActiveJourneys } from '../src/ingest/active-journeys.js';
import { createRecordApplier } from '../src/ingest/apply-record.js';
import { event, ingestEnv, onboardingJourney, silentLogger, T0, type IngestEnv } from './ingest-helpers.js';

let env: IngestEnv;
beforeEach(async () => {
  env = await ingestEnv();
});
afterEach(async () => {
  await env.close();
});

const SECOND = Math.floor(T0 / 1000);
const MINUTE = 60_000;
const welcome = (journeyId: string, version = 1) => ({ journeyId, version, stepId: 'welcome' });

/** Enters `userId` into the journey with a signed_up event at the clock's time; returns the entry id. */
async function enter(journeyId: string, userId: string): Promise<string> {
  const applied = await env.append(event(userId, 'signed_up', { source: 'ads' }));
  expect(await env.applier.apply(applied)).toBe('applied');
  const state = await env.states.get(journeyId, userId);
  expect(state).toMatchObject({ status: 'active', entryId: entryIdFor(journeyId, applied.streamId) });
  return state!.entryId;
}

/** The dispatcher's part, by hand: the entry's first step ran and ended the entry. */
async function complete(journeyId: string, userId: string, entryId: string): Promise<void> {
  expect(
    await env.states.commitEach([
      { key: 'test', journeyId, userId, entryId, expectedToken: '0', token: '1', stepId: null, status: 'completed', now: env.clock.now() },
    ]),
  ).toEqual([true]);
}

describe('applying an event', () => {
  it('enters a matching user: the state, the first step in its due set and the due set in the index', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('ada', { country: 'US' }, new Date(T0));
    const applied = await env.append(event('ada', 'signed_up', { source: 'ads' }));

    expect(await env.applier.apply(applied)).toBe('applied');

    const entryId = entryIdFor(journeyId, applied.streamId);
    expect(await env.states.get(journeyId, 'ada')).toMatchObject({
      status: 'active',
      version: 1,
      entryId,
      stepId: 'welcome',
      token: '0',
      trigger: { name: 'signed_up', properties: { source: 'ads' } },
      awaiting: null,
      lastEnteredAt: new Date(T0),
    });
    expect(await env.dueMembers('ada', welcome(journeyId), SECOND)).toEqual([`ada|${entryId}||0`]);
    expect(await env.dueIndexScore('ada', welcome(journeyId), SECOND)).toBe(SECOND);
    expect((await env.users.get('ada'))?.lastRecord).toBe(applied.streamId);
  });

  it('enters nobody when the trigger (name or where) or the audience does not match, and still applies the record', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('fr', { country: 'FR' }, new Date(T0));
    await env.users.mergeAttributes('us', { country: 'US' }, new Date(T0));
    const records = [
      event('fr', 'signed_up', { source: 'ads' }), // audience
      event('us', 'signed_up', { source: 'test' }), // where
      event('us', 'logged_in', { source: 'ads' }), // name
      event('nobody', 'signed_up', { source: 'ads' }), // unknown user: no attributes, no audience
    ];
    for (const record of records) {
      const applied = await env.append(record);
      expect(await env.applier.apply(applied)).toBe('applied');
      expect((await env.users.get(record.userId))?.lastRecord).toBe(applied.streamId);
    }
    for (const userId of ['fr', 'us', 'nobody']) expect(await env.states.get(journeyId, userId)).toBeNull();
    expect(await env.redis.zcard(env.keys.dueIndex(env.keys.dueShardOf('us')))).toBe(0);
  });

  it('applies a record once however often it is applied, and a crash at any point is repaired by the retry', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('dup', { country: 'CA' }, new Date(T0));
    const applied = await env.append(event('dup', 'signed_up', { source: 'ads' }));
    expect(await env.applier.apply(applied)).toBe('applied');
    expect(await env.applier.apply(applied)).toBe('skipped');
    const entryId = entryIdFor(journeyId, applied.streamId);
    expect(await env.states.get(journeyId, 'dup')).toMatchObject({ entries: 1, entryId });
    expect(await env.dueMembers('dup', welcome(journeyId), SECOND)).toEqual([`dup|${entryId}||0`]);

    // Crash after the state was written, before the first step was scheduled: the retry schedules it.
    await env.users.mergeAttributes('crash1', { country: 'US' }, new Date(T0));
    const first = await env.append(event('crash1', 'signed_up', { source: 'ads' }));
    const crashing = createRecordApplier({
      users: env.users,
      states: env.states,
      journeys: env.journeys,
      dueSchedule: { schedule: () => Promise.reject(new Error('crash before scheduling')) },
      branchLock: env.lock,
      stats: env.stats,
      erase: env.erase,
      logger: silentLogger,
      now: env.clock.now,
    });
    await expect(crashing.apply(first)).rejects.toThrow('crash before scheduling');
    expect(await env.states.get(journeyId, 'crash1')).toMatchObject({ status: 'active', entries: 1 });
    expect(await env.dueMembers('crash1', welcome(journeyId), SECOND)).toEqual([]);
    env.clock.advance(5_000); // the retry comes later; the step stays due at the second the user entered
    expect(await env.applier.apply(first)).toBe('applied');
    const firstEntry = entryIdFor(journeyId, first.streamId);
    expect(await env.states.get(journeyId, 'crash1')).toMatchObject({ entries: 1, entryId: firstEntry });
    expect(await env.dueMembers('crash1', welcome(journeyId), SECOND)).toEqual([`crash1|${firstEntry}||0`]);

    // Crash after everything but the final mark: the retry changes nothing (one entry, one member).
    await env.users.mergeAttributes('crash2', { country: 'US' }, new Date(T0));
    const second = await env.append(event('crash2', 'signed_up', { source: 'ads' }));
    const unmarked = createRecordApplier({
      users: {
        getOrCreate: env.users.getOrCreate,
        revive: env.users.revive,
        markRecordApplied: () => Promise.reject(new Error('crash before marking')),
      },
      states: env.states,
      journeys: env.journeys,
      dueSchedule: env.dueSchedule,
      branchLock: env.lock,
      stats: env.stats,
      erase: env.erase,
      logger: silentLogger,
      now: env.clock.now,
    });
    await expect(unmarked.apply(second)).rejects.toThrow('crash before marking');
    expect(await env.applier.apply(second)).toBe('applied');
    expect(await env.applier.apply(second)).toBe('skipped');
    const secondEntry = entryIdFor(journeyId, second.streamId);
    expect(await env.states.get(journeyId, 'crash2')).toMatchObject({ entries: 1, entryId: secondEntry });
    const secondAt = Math.floor(env.clock.now() / 1000);
    expect(await env.dueMembers('crash2', welcome(journeyId), secondAt)).toEqual([`crash2|${secondEntry}||0`]);
  });

  it('never enters a user twice at once, and reentry "never" keeps a finished user out', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('once', { country: 'US' }, new Date(T0));
    const entryId = await enter(journeyId, 'once');

    env.clock.advance(MINUTE);
    await env.applier.apply(await env.append(event('once', 'signed_up', { source: 'ads' })));
    expect(await env.states.get(journeyId, 'once')).toMatchObject({ status: 'active', entryId, entries: 1 });

    await complete(journeyId, 'once', entryId);
    env.clock.advance(30 * 24 * 60 * MINUTE);
    await env.applier.apply(await env.append(event('once', 'signed_up', { source: 'ads' })));
    expect(await env.states.get(journeyId, 'once')).toMatchObject({ status: 'completed', entryId, entries: 1 });
  });

  it('reentry "after" lets a finished user in again once the time has passed since the last entry', async () => {
    const base = onboardingJourney();
    const journeyId = await env.publish({ ...base, entry: { ...(base.entry as object), reentry: { mode: 'after', after: 'PT1H' } } });
    await env.users.mergeAttributes('again', { country: 'US' }, new Date(T0));
    const firstEntry = await enter(journeyId, 'again');
    await complete(journeyId, 'again', firstEntry);

    env.clock.set(T0 + 30 * MINUTE);
    await env.applier.apply(await env.append(event('again', 'signed_up', { source: 'ads' })));
    expect(await env.states.get(journeyId, 'again')).toMatchObject({ status: 'completed', entryId: firstEntry, entries: 1 });

    env.clock.set(T0 + 61 * MINUTE);
    const later = await env.append(event('again', 'signed_up', { source: 'ads' }));
    await env.applier.apply(later);
    const secondEntry = entryIdFor(journeyId, later.streamId);
    expect(secondEntry).not.toBe(firstEntry);
    expect(await env.states.get(journeyId, 'again')).toMatchObject({
      status: 'active',
      entryId: secondEntry,
      entries: 2,
      lastEnteredAt: new Date(T0 + 61 * MINUTE),
    });
    expect(await env.dueMembers('again', welcome(journeyId), Math.floor((T0 + 61 * MINUTE) / 1000))).toEqual([`again|${secondEntry}||0`]);
  });
});

describe('erasing a user', () => {
  it('passes over the records before the erase record, erases again at it, and takes a later record as a new user', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('era', { country: 'US' }, new Date(T0));
    const before = await env.append(event('era', 'signed_up', { source: 'ads' }));
    const erase = await env.append({ type: 'erase', id: 'x', userId: 'era', time: T0 });
    // The API erases at once, holding back everything before its erase record.
    await env.erase('era', previousStreamId(erase.streamId));
    expect(await env.applier.apply(before)).toBe('skipped');
    // A drain that was applying an earlier record at that moment left a state behind: the erase record removes it.
    await env.states.enter({
      journeyId,
      userId: 'era',
      version: 1,
      entryId: 'late',
      stepId: 'welcome',
      token: '0',
      trigger: null,
      now: new Date(T0),
    });
    expect(await env.applier.apply(erase)).toBe('applied');
    expect(await env.states.listForUser('era')).toEqual([]);
    expect(await env.users.get('era')).toBeNull();
    expect(await env.applier.apply(erase)).toBe('skipped');
    // A later event: the app speaks of the user again; they are a user again, without the old attributes.
    const after = await env.append(event('era', 'signed_up', { source: 'ads' }));
    expect(await env.applier.apply(after)).toBe('applied');
    expect(await env.users.get('era')).toMatchObject({ attributes: {}, lastRecord: after.streamId });
  });
});

describe('leaving a journey', () => {
  it('an exit event seals the entry: the state is exited and the scheduled first step loses the lock', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('bye', { country: 'US' }, new Date(T0));
    const entryId = await enter(journeyId, 'bye');

    env.clock.advance(MINUTE);
    await env.applier.apply(await env.append(event('bye', 'account_deleted')));
    expect(await env.states.get(journeyId, 'bye')).toMatchObject({
      status: 'exited',
      entryId,
      stepId: null,
      endedAt: new Date(T0 + MINUTE),
    });
    const target = { journeyId, userId: 'bye', entryId };
    expect(await env.lock.current(target)).toBe(EXIT_TOKEN);
    // What the dispatcher will do with the member still in the due set:
    expect(await env.dueMembers('bye', welcome(journeyId), SECOND)).toEqual([`bye|${entryId}||0`]);
    expect(await env.lock.take(target, { expectedToken: '', ownToken: '0' }, 60_000)).toEqual({ status: 'lost', current: EXIT_TOKEN });
  });

  it('an attribute change that matches exit.when exits the user; one that does not, keeps them', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('attr', { country: 'US' }, new Date(T0));
    const entryId = await enter(journeyId, 'attr');
    const target = { journeyId, userId: 'attr', entryId };
    // The dispatcher ran the first step: the entry waits on its next one.
    expect(await env.lock.take(target, { expectedToken: '', ownToken: '0' }, 60_000)).toEqual({ status: 'acquired' });

    await env.users.mergeAttributes('attr', { plan: 'pro' }, new Date(T0));
    await env.applier.apply(await env.append({ type: 'attributes', id: 'a1', userId: 'attr', time: T0 }));
    expect(await env.states.get(journeyId, 'attr')).toMatchObject({ status: 'active' });

    await env.users.mergeAttributes('attr', { unsubscribed: true }, new Date(T0));
    await env.applier.apply(await env.append({ type: 'attributes', id: 'a2', userId: 'attr', time: T0 }));
    expect(await env.states.get(journeyId, 'attr')).toMatchObject({ status: 'exited' });
    expect(await env.lock.take(target, { expectedToken: '0', ownToken: '1' }, 60_000)).toEqual({ status: 'lost', current: EXIT_TOKEN });
  });

  it('counts each exit once, at the step the entry was at, however often its record is applied', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('count', { country: 'US' }, new Date(T0));
    await enter(journeyId, 'count');
    const bye = await env.append(event('count', 'account_deleted'));
    await env.applier.apply(bye);
    await env.applier.apply(bye);
    await env.applier.apply(await env.append(event('count', 'account_deleted')));
    expect((await env.stats.read(journeyId, 1)).steps['welcome']?.counters).toMatchObject({ exited: 1 });
  });

  it('a user who already matches the exit criteria does not enter', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('gone', { country: 'US', unsubscribed: true }, new Date(T0));
    await env.applier.apply(await env.append(event('gone', 'signed_up', { source: 'ads' })));
    expect(await env.states.get(journeyId, 'gone')).toBeNull();

    // Nor does an event that is itself an exit event of the journey enter anyone.
    const both = await env.publish(onboardingJourney({ name: 'Exit on sign-up', exit: { events: ['signed_up'] } }));
    await env.users.mergeAttributes('both', { country: 'US' }, new Date(T0));
    await env.applier.apply(await env.append(event('both', 'signed_up', { source: 'ads' })));
    expect(await env.states.get(both, 'both')).toBeNull();
  });

  it('an api entry of a user who matches the exit criteria enters nobody', async () => {
    const journeyId = await env.publish(onboardingJourney({ entry: { trigger: { type: 'api' } } }));
    await env.users.mergeAttributes('api-gone', { unsubscribed: true }, new Date(T0));
    await env.users.mergeAttributes('api-ok', {}, new Date(T0));
    for (const userId of ['api-gone', 'api-ok']) {
      await env.applier.apply(await env.append({ type: 'enter', id: uniqueName('ent'), userId, journeyId, time: T0 }));
    }
    expect(await env.states.get(journeyId, 'api-gone')).toBeNull();
    expect(await env.states.get(journeyId, 'api-ok')).toMatchObject({ status: 'active' });
  });
});

describe('action_paths', () => {
  it('a matching event schedules exactly one path item, which races the timeout item for the lock; exactly one wins', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('buyer', { country: 'US' }, new Date(T0));
    const entryId = await enter(journeyId, 'buyer');
    const target = { journeyId, userId: 'buyer', entryId };

    // The dispatcher's part, by hand: the first step ran ("0"), then the action_paths step ("1") planned its wait,
    // committed it and scheduled the timeout, expecting the waiting token.
    const deadline = T0 + 60 * MINUTE;
    await env.lock.take(target, { expectedToken: '', ownToken: '0' }, 86_400_000);
    await env.lock.take(target, { expectedToken: '0', ownToken: '1' }, 86_400_000);
    await env.states.commitEach([
      {
        key: 'test',
        journeyId,
        userId: 'buyer',
        entryId,
        expectedToken: '0',
        token: '1',
        stepId: 'act',
        status: 'active',
        awaiting: { stepId: 'act', token: '1', deadline },
        now: T0,
      },
    ]);
    const act = { journeyId, version: 1, stepId: 'act' };
    await env.dueSchedule.schedule(act, Math.floor(deadline / 1000), [
      { userId: 'buyer', entryId, expectedToken: '1', ownToken: '2.timeout' },
    ]);

    env.clock.set(T0 + 10 * MINUTE);
    const bought = await env.append(event('buyer', 'purchased', { item: 'T-shirt' }));
    expect(await env.applier.apply(bought)).toBe('applied');
    const nowSecond = Math.floor((T0 + 10 * MINUTE) / 1000);
    expect(await env.dueMembers('buyer', act, nowSecond)).toEqual([`buyer|${entryId}|1|2.bought`]);
    expect((await env.states.get(journeyId, 'buyer'))?.actionEvent).toEqual({
      token: '1',
      recordId: bought.streamId,
      name: 'purchased',
      properties: { item: 'T-shirt' },
    });

    // A later event matching another path of the same wait: the first event picked the path already.
    env.clock.advance(1_000);
    await env.applier.apply(await env.append(event('buyer', 'viewed_item', { item: 'Hat' })));
    expect(await env.dueMembers('buyer', act, nowSecond + 1)).toEqual([]);
    expect(await env.dueMembers('buyer', act, nowSecond)).toEqual([`buyer|${entryId}|1|2.bought`]);
    expect((await env.states.get(journeyId, 'buyer'))?.actionEvent?.properties).toEqual({ item: 'T-shirt' });

    // The path item and the timeout item expect the same token: exactly one takes the lock.
    const [path, timeout] = await Promise.all([
      env.lock.take(target, { expectedToken: '1', ownToken: '2.bought' }, 86_400_000),
      env.lock.take(target, { expectedToken: '1', ownToken: '2.timeout' }, 86_400_000),
    ]);
    expect([path.status, timeout.status].sort()).toEqual(['acquired', 'lost']);
  });

  it('events that match no path, or users that await nothing, schedule nothing', async () => {
    const journeyId = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('idle', { country: 'US' }, new Date(T0));
    const entryId = await enter(journeyId, 'idle');
    const act = { journeyId, version: 1, stepId: 'act' };
    await env.applier.apply(await env.append(event('idle', 'purchased', { item: 'T-shirt' })));
    expect(await env.dueMembers('idle', act, SECOND)).toEqual([]);
    expect((await env.states.get(journeyId, 'idle'))?.actionEvent).toBeNull();

    await env.states.commitEach([
      {
        key: 'test',
        journeyId,
        userId: 'idle',
        entryId,
        expectedToken: '0',
        token: '1',
        stepId: 'act',
        status: 'active',
        awaiting: { stepId: 'act', token: '1', deadline: T0 + 60 * MINUTE },
        now: T0,
      },
    ]);
    await env.applier.apply(await env.append(event('idle', 'logged_in')));
    expect(await env.dueMembers('idle', act, SECOND)).toEqual([]);
  });
});

describe('api entries', () => {
  it('an enter record enters an active api journey when the audience holds, and nothing else', async () => {
    const apiJourney = await env.publish(
      onboardingJourney({ name: 'Api', entry: { trigger: { type: 'api' }, audience: { attr: 'country', op: 'eq', value: 'US' } } }),
    );
    const eventJourney = await env.publish(onboardingJourney());
    await env.users.mergeAttributes('us', { country: 'US' }, new Date(T0));
    await env.users.mergeAttributes('fr', { country: 'FR' }, new Date(T0));
    const enterRecord = (userId: string, journeyId: string): IngestRecord => ({
      type: 'enter',
      id: `enter-${userId}-${journeyId}`,
      userId,
      journeyId,
      time: T0,
    });

    const applied = await env.append(enterRecord('us', apiJourney));
    await env.applier.apply(applied);
    const entryId = entryIdFor(apiJourney, applied.streamId);
    expect(await env.states.get(apiJourney, 'us')).toMatchObject({ status: 'active', entryId, trigger: null, stepId: 'welcome' });
    expect(await env.dueMembers('us', welcome(apiJourney), SECOND)).toEqual([`us|${entryId}||0`]);

    await env.applier.apply(await env.append(enterRecord('fr', apiJourney)));
    await env.applier.apply(await env.append(enterRecord('us', eventJourney)));
    await env.applier.apply(await env.append(enterRecord('us', 'jrn_00000000000000000000')));
    expect(await env.states.get(apiJourney, 'fr')).toBeNull();
    expect(await env.states.get(eventJourney, 'us')).toBeNull();
  });

  it('a paused journey enters nobody', async () => {
    const journeyId = await env.publish(onboardingJourney());
    expect((await env.journeysRepo.pause(journeyId)).ok).toBe(true);
    await env.revision.bump();
    await env.users.mergeAttributes('p', { country: 'US' }, new Date(T0));
    await env.applier.apply(await env.append(event('p', 'signed_up', { source: 'ads' })));
    expect(await env.states.get(journeyId, 'p')).toBeNull();
  });
});

describe('the active journeys', () => {
  it('are read again when the journeys revision moves, and only then (or once they are old); any published version stays readable', async () => {
    let clock = 0;
    const journeys = createActiveJourneys(env.journeysRepo, env.revision, { maxAgeMs: 60_000, clock: () => clock });
    const first = await env.publish(onboardingJourney());
    await journeys.refresh();
    expect((await journeys.list()).map((journey) => journey.journeyId)).toEqual([first]);

    // A change whose revision did not move yet is not seen; once it moved, the next refresh reads the list again.
    expect((await env.journeysRepo.pause(first)).ok).toBe(true);
    clock = 59_999;
    await journeys.refresh();
    expect((await journeys.list()).map((journey) => journey.journeyId)).toEqual([first]);
    await env.revision.bump();
    await journeys.refresh();
    expect(await journeys.list()).toEqual([]);

    // The safety net: a list older than maxAgeMs is read again whatever the revision says.
    const second = await createJourneyWithoutBump(onboardingJourney({ name: 'Second' }));
    clock = 130_000;
    await journeys.refresh();
    expect(await journeys.list()).toEqual([{ journeyId: second, version: 1, definition: expect.objectContaining({ name: 'Second' }) }]);
    // Users inside a paused journey still finish (and exit) on their version.
    expect(await journeys.definition(first, 1)).toMatchObject({ name: 'Onboarding' });
    expect(await journeys.definition(first, 2)).toBeNull();
  });
});

async function createJourneyWithoutBump(definition: Parameters<IngestEnv['publish']>[0]): Promise<string> {
  const validation = validateJourney(definition);
  if (!validation.ok) throw new Error('invalid test journey');
  const created = await env.journeysRepo.create(validation.journey);
  if (!created.ok) throw new Error(created.message);
  expect((await env.journeysRepo.publish(created.journey.id)).ok).toBe(true);
  return created.journey.id;
}
