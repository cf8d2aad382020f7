import { describe, expect, it } from 'vitest';
import {
  decideEntry,
  entryIdFor,
  planRecord,
  validateJourney,
  versionKey,
  type ActiveJourney,
  type EntryState,
  type IngestRecord,
  type JourneyDefinition,
  type RecordPlanInput,
} from '../../src/index.js';

// What one ingest record does to one user, and whether a user enters: pure decisions, no clock but the one passed in.

const T0 = Date.parse('2026-11-22T10:00:00Z');
const HOOK = 'http://127.0.0.1:9/hook';

function onboardingJourney(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Onboarding',
    entry: {
      trigger: { type: 'event', event: 'signed_up', where: { prop: 'source', op: 'ne', value: 'test' } },
      audience: { attr: 'country', op: 'in', value: ['US', 'CA'] },
      reentry: { mode: 'never' },
    },
    exit: { events: ['account_deleted'], when: { attr: 'unsubscribed', op: 'eq', value: true } },
    start: 'welcome',
    steps: {
      welcome: {
        type: 'message',
        channel: 'webhook',
        messageType: 'onboarding',
        webhook: { url: HOOK },
        payload: { text: 'Hi' },
        next: 'act',
      },
      act: {
        type: 'action_paths',
        window: 'PT1H',
        paths: [
          { id: 'bought', event: 'purchased', next: 'thanks' },
          { id: 'browsed', event: 'viewed_item', next: null },
        ],
        timeout: null,
      },
      thanks: {
        type: 'message',
        channel: 'webhook',
        messageType: 'receipt',
        webhook: { url: HOOK },
        payload: { text: 'Thanks for {{event.item}}' },
        next: null,
      },
    },
    ...over,
  };
}

function definition(over: Record<string, unknown> = {}): JourneyDefinition {
  const validation = validateJourney(onboardingJourney(over));
  if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
  return validation.journey;
}

const onboarding = definition();
const again = definition({ entry: { ...(onboardingJourney().entry as object), reentry: { mode: 'after', after: 'PT1H' } } });

function state(over: Partial<EntryState> = {}): EntryState {
  return {
    journeyId: 'j1',
    userId: 'u1',
    status: 'active',
    version: 1,
    entryId: 'e1',
    stepId: 'welcome',
    token: '0',
    trigger: null,
    awaiting: null,
    messages: {},
    actionEvent: null,
    lastEnteredAt: T0,
    path: { steps: [], branches: [] },
    convertedAt: null,
    ...over,
  };
}

function input(record: IngestRecord, over: Partial<RecordPlanInput> = {}): RecordPlanInput {
  return {
    streamId: '1800000000000-0',
    record,
    attributes: { country: 'US' },
    states: [],
    definitions: new Map([[versionKey('j1', 1), onboarding]]),
    active: [{ journeyId: 'j1', version: 1, definition: onboarding }],
    now: T0,
    ...over,
  };
}

const event = (name: string, properties: Record<string, string> = {}): IngestRecord => ({
  type: 'event',
  id: 'x',
  userId: 'u1',
  name,
  time: T0,
  properties,
});

describe('planning one record', () => {
  it('a matching event plans an entry whose id derives from the stream id', () => {
    const plan = planRecord(input(event('signed_up', { source: 'ads' })));
    expect(plan).toEqual({
      problems: [],
      actions: [
        {
          kind: 'enter',
          journey: { journeyId: 'j1', version: 1, definition: onboarding },
          entrant: {
            userId: 'u1',
            entryId: entryIdFor('j1', '1800000000000-0'),
            trigger: { name: 'signed_up', properties: { source: 'ads' } },
            current: null,
          },
        },
      ],
    });
    expect(planRecord(input(event('signed_up', { source: 'test' }))).actions).toEqual([]);
    expect(planRecord(input(event('signed_up'), { attributes: { country: 'FR' } })).actions).toEqual([]);
  });

  it('exits come first; an exited entry answers no action path; the journey it left may be entered again', () => {
    const j2: ActiveJourney = { journeyId: 'j2', version: 3, definition: again };
    const waiting = state({ awaiting: { stepId: 'act', token: '1', deadline: T0 + 3_600_000 }, token: '1', stepId: 'act' });
    const left = state({ journeyId: 'j2', version: 3, entryId: 'old', lastEnteredAt: T0 - 7_200_000 });
    const exitAndEnter = definition({ exit: { events: ['signed_up'] } });
    const plan = planRecord(
      input(event('signed_up', { source: 'ads' }), {
        states: [waiting, left],
        definitions: new Map([
          [versionKey('j1', 1), onboarding],
          [versionKey('j2', 3), { ...again, exit: exitAndEnter.exit }],
        ]),
        active: [j2],
      }),
    );
    expect(plan.actions.map((action) => action.kind)).toEqual(['exit', 'enter']);
    expect(plan.actions[0]).toEqual({ kind: 'exit', journeyId: 'j2', version: 3, entryId: 'old', stepId: 'welcome' });
    expect(plan.actions[1]).toMatchObject({ kind: 'enter', entrant: { current: { entryId: 'old', status: 'exited' } } });
    expect(decideEntry(again.entry.reentry, { ...left, status: 'exited' }, 'new', T0)).toEqual({ kind: 'enter' });
  });

  it('an event matching the awaited step plans its path, expecting the awaiting token and owning the next one', () => {
    const waiting = state({ awaiting: { stepId: 'act', token: '3', deadline: T0 + 3_600_000 }, token: '3', stepId: 'act' });
    const plan = planRecord(input(event('purchased', { item: 'T-shirt' }), { states: [waiting], now: T0 + 1_500 }));
    expect(plan.actions).toEqual([
      {
        kind: 'action-path',
        journeyId: 'j1',
        entryId: 'e1',
        awaitingToken: '3',
        recordId: '1800000000000-0',
        event: { name: 'purchased', properties: { item: 'T-shirt' } },
        step: {
          branch: { journeyId: 'j1', version: 1, stepId: 'act' },
          dueSecond: Math.floor((T0 + 1_500) / 1000),
          member: { userId: 'u1', entryId: 'e1', expectedToken: '3', ownToken: '4.bought' },
        },
      },
    ]);
    const broken = state({ awaiting: { stepId: 'act', token: 'not a token', deadline: T0 } });
    expect(planRecord(input(event('purchased'), { states: [broken] })).problems).toHaveLength(1);
    const gone = state({ awaiting: { stepId: 'welcome', token: '1', deadline: T0 } });
    expect(planRecord(input(event('purchased'), { states: [gone] }))).toMatchObject({
      actions: [],
      problems: [expect.stringContaining('no action_paths step')],
    });
  });

  it('an attribute change only evaluates exit.when; an api entry only enters its api journey', () => {
    const attributes: IngestRecord = { type: 'attributes', id: 'a', userId: 'u1', time: T0 };
    expect(planRecord(input(attributes, { states: [state()], attributes: { unsubscribed: true } })).actions).toEqual([
      { kind: 'exit', journeyId: 'j1', version: 1, entryId: 'e1', stepId: 'welcome' },
    ]);
    expect(planRecord(input(attributes, { states: [state()] })).actions).toEqual([]);

    const api = definition({ entry: { trigger: { type: 'api' } } });
    const active: ActiveJourney[] = [
      { journeyId: 'j1', version: 1, definition: onboarding },
      { journeyId: 'api', version: 2, definition: api },
    ];
    const enter = (journeyId: string): IngestRecord => ({ type: 'enter', id: 'n', userId: 'u1', journeyId, time: T0 });
    expect(planRecord(input(enter('api'), { active, states: [state()] })).actions).toMatchObject([
      { kind: 'enter', journey: { journeyId: 'api' }, entrant: { trigger: null } },
    ]);
    // A user who matches the journey's exit criteria would leave at once: the entry is not planned.
    expect(planRecord(input(enter('api'), { active, states: [state()], attributes: { unsubscribed: true } })).actions).toEqual([]);
    expect(planRecord(input(enter('j1'), { active })).actions).toEqual([]);
    expect(planRecord(input(enter('unknown'), { active })).actions).toEqual([]);
  });

  it('a state on a version that cannot be read is left alone and reported', () => {
    const plan = planRecord(input(event('account_deleted'), { states: [state({ version: 9 })] }));
    expect(plan.actions).toEqual([]);
    expect(plan.problems).toEqual([expect.stringContaining('no published version 9')]);
  });
});

describe('deciding an entry', () => {
  const never = { mode: 'never' } as const;
  const hourly = { mode: 'after', after: 'PT1H' } as const;

  it('enters a user who was never in the journey, never one who is inside it', () => {
    expect(decideEntry(never, null, 'e1', T0)).toEqual({ kind: 'enter' });
    expect(decideEntry(hourly, state({ entryId: 'e0' }), 'e1', T0 + 86_400_000)).toEqual({ kind: 'skip', reason: 'active' });
  });

  it('re-entry: never, or once the time has passed since the last entry', () => {
    const done = state({ status: 'completed', entryId: 'e0', token: '5' });
    expect(decideEntry(never, done, 'e1', T0 + 365 * 86_400_000)).toEqual({ kind: 'skip', reason: 'reentry' });
    expect(decideEntry(hourly, done, 'e1', T0 + 3_599_999)).toEqual({ kind: 'skip', reason: 'reentry' });
    expect(decideEntry(hourly, done, 'e1', T0 + 3_600_000)).toEqual({ kind: 'enter' });
  });

  it('the same cause again finds its own entry: its first step is scheduled again only while it has not run', () => {
    expect(decideEntry(never, state(), 'e1', T0 + 5_000)).toEqual({
      kind: 'reschedule',
      step: {
        branch: { journeyId: 'j1', version: 1, stepId: 'welcome' },
        dueSecond: Math.floor(T0 / 1000),
        member: { userId: 'u1', entryId: 'e1', expectedToken: '', ownToken: '0' },
      },
    });
    expect(decideEntry(never, state({ token: '1', stepId: 'act' }), 'e1', T0)).toEqual({ kind: 'skip', reason: 'entered-by-this-cause' });
    expect(decideEntry(never, state({ status: 'exited' }), 'e1', T0)).toEqual({ kind: 'skip', reason: 'entered-by-this-cause' });
  });
});

describe('goals', () => {
  const withGoal = definition({
    goal: { event: 'purchased', where: { prop: 'total', op: 'gt', value: 0 }, window: 'P7D', exitOnGoal: true },
  });
  const goalInput = (record: IngestRecord, states: EntryState[]) =>
    input(record, { states, definitions: new Map([[versionKey('j1', 1), withGoal]]), active: [] });
  const purchase = (total: number, time = T0 + 60_000): IngestRecord => ({
    type: 'event',
    id: 'p',
    userId: 'u1',
    name: 'purchased',
    time,
    properties: { total },
  });

  it('converts an entry once, within its window, and exits an active one when exitOnGoal', () => {
    expect(planRecord(goalInput(purchase(10), [state()])).actions).toEqual([
      { kind: 'convert', journeyId: 'j1', version: 1, entryId: 'e1', at: T0 + 60_000 },
      { kind: 'exit', journeyId: 'j1', version: 1, entryId: 'e1', stepId: 'welcome' },
    ]);
    // A completed entry converts too, without an exit; one converted already does not again.
    expect(planRecord(goalInput(purchase(10), [state({ status: 'completed', stepId: null })])).actions.map((a) => a.kind)).toEqual([
      'convert',
    ]);
    expect(planRecord(goalInput(purchase(10), [state({ convertedAt: T0 })])).actions).toEqual([]);
  });

  it('does not convert outside the window or when `where` does not match', () => {
    expect(planRecord(goalInput(purchase(10, T0 + 8 * 86_400_000), [state()])).actions).toEqual([]);
    expect(planRecord(goalInput(purchase(0), [state()])).actions).toEqual([]);
  });
});

describe('api entries with properties', () => {
  const api = definition({
    entry: { trigger: { type: 'api' }, audience: { prop: 'coupon', op: 'exists', value: true }, reentry: { mode: 'after', after: 'PT1M' } },
  });
  const apiInput = (record: IngestRecord) => input(record, { active: [{ journeyId: 'j1', version: 1, definition: api }] });

  it('keeps the properties for templates, reads them in the audience, and derives the entry id from the caller id', () => {
    const record: IngestRecord = {
      type: 'enter',
      id: 'n',
      userId: 'u1',
      journeyId: 'j1',
      time: T0,
      properties: { coupon: 'X1' },
      entryKey: 'k-1',
    };
    expect(planRecord(apiInput(record)).actions).toEqual([
      {
        kind: 'enter',
        journey: expect.objectContaining({ journeyId: 'j1' }),
        entrant: {
          userId: 'u1',
          entryId: entryIdFor('j1', 'api:k-1'),
          trigger: { name: 'api', properties: { coupon: 'X1' } },
          current: null,
        },
      },
    ]);
    // Without the property the audience leaves the user out.
    expect(planRecord(apiInput({ ...record, properties: {} })).actions).toEqual([]);
  });

  it('erases and does nothing else for an erase record', () => {
    expect(planRecord(input({ type: 'erase', id: 'x', userId: 'u1', time: T0 }, { states: [state()] })).actions).toEqual([
      { kind: 'erase' },
    ]);
  });
});
