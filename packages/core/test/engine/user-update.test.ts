import { describe, expect, it } from 'vitest';
import { decideMember, validateJourney, type EntryState, type JourneyDefinition, type MemberInput } from '../../src/index.js';
import { validExample } from './journey.js';

const noon = Date.parse('2026-11-23T12:00:00Z');

/** welcome -> mark (user_update) -> split on the attribute it set. */
const journey: JourneyDefinition = validExample((draft) => {
  const steps = draft.steps as Record<string, Record<string, unknown>>;
  steps.welcome!.next = 'mark';
  steps.mark = { type: 'user_update', set: { plan: 'pro', greeted: 'Hi {{ user.firstName }}' }, unset: ['coupon'], next: 'split' };
  steps.wait = { type: 'delay', duration: 'PT5S', next: 'mark' };
  steps.welcome!.next = 'wait';
});

function state(over: Partial<EntryState> = {}): EntryState {
  return {
    journeyId: 'j1',
    userId: 'u1',
    version: 1,
    entryId: 'e1',
    status: 'active',
    stepId: 'mark',
    token: '1',
    trigger: null,
    awaiting: null,
    actionEvent: null,
    messages: {},
    lastEnteredAt: noon,
    path: { steps: [], branches: [] },
    convertedAt: null,
    ...over,
  };
}

const input = (over: Partial<MemberInput> = {}): MemberInput => ({
  journey,
  journeyId: 'j1',
  version: 1,
  item: { stepId: 'mark', userId: 'u1', entryId: 'e1', expectedToken: '1', ownToken: '2' },
  state: state(),
  user: { firstName: 'Ada', plan: 'free', coupon: 'X' },
  now: noon,
  ...over,
});

describe('user_update steps', () => {
  it('are refused without a change, or with an attribute both set and unset', () => {
    const invalid = (mark: Record<string, unknown>) => {
      const result = validateJourney({
        ...validExample(),
        steps: { ...validExample().steps, welcome: { ...validExample().steps.welcome, next: 'mark' }, mark },
      });
      return result.ok ? [] : result.issues.map((issue) => issue.path);
    };
    expect(invalid({ type: 'user_update', next: 'wait' })).toEqual(['steps.mark']);
    expect(invalid({ type: 'user_update', set: { a: 1 }, unset: ['a'], next: 'wait' })).toEqual(['steps.mark.unset.0']);
    expect(invalid({ type: 'user_update', set: { 'a.b': 1 }, next: 'wait' })).toContain('steps.mark.set.a.b');
    expect(invalid({ type: 'user_update', set: { a: '{{ x | nope }}' }, next: 'wait' })).toEqual(['steps.mark.set.a']);
  });

  it('asks for the rendered change first, keyed by the visit, then walks on with the updated user', () => {
    const first = decideMember(input());
    expect(first).toMatchObject({
      kind: 'update',
      key: 'j1:e1:2',
      update: { set: { plan: 'pro', greeted: 'Hi Ada' }, unset: ['coupon'] },
    });
    // Applied: the split after it sees plan = pro (the vip branch), in the same walk.
    const after = decideMember(input({ user: { firstName: 'Ada', plan: 'pro' }, updateApplied: true }));
    expect(after).toMatchObject({ kind: 'send', message: { stepId: 'vipMsg', branchId: 'vip' } });
    if (after.kind !== 'send') return;
    expect(after.walk.reached).toEqual(['mark', 'split', 'vipMsg']);
  });

  it('gets an item of its own when a walk reaches it on the way', () => {
    const decision = decideMember(
      input({
        item: { stepId: 'wait', userId: 'u1', entryId: 'e1', expectedToken: '0', ownToken: '1' },
        state: state({ token: '0', stepId: 'wait' }),
      }),
    );
    // The delay is a stop of its own: the walk waits, then the update is the next item's first step.
    expect(decision).toMatchObject({ kind: 'settled', settlement: { next: { stepId: 'mark' } } });
    const direct = validExample((draft) => {
      const steps = draft.steps as Record<string, Record<string, unknown>>;
      steps.split!.else = 'mark2';
      steps.mark2 = { type: 'user_update', set: { seen: true }, next: 'act' };
    });
    const reached = decideMember({
      ...input(),
      journey: direct,
      item: { stepId: 'split', userId: 'u1', entryId: 'e1', expectedToken: '1', ownToken: '2' },
      state: state({ token: '1', stepId: 'split' }),
    });
    expect(reached).toMatchObject({
      kind: 'settled',
      settlement: {
        commit: { stepId: 'mark2', token: '3', path: { steps: ['split'], branches: ['split:else'] } },
        next: { stepId: 'mark2', dueAt: noon, expectedToken: '2', ownToken: '3' },
        commitCounts: [
          { stepId: 'split', counter: 'entered' },
          { stepId: 'split', branchId: 'else', counter: 'entered' },
        ],
      },
    });
  });

  it('does nothing for an erased user', () => {
    expect(decideMember(input({ user: null }))).toMatchObject({ kind: 'settled', settlement: { result: 'ended', commit: null } });
  });
});

describe('event.* after an action path', () => {
  it('reads the event that picked the path in the steps after it, not only in the walk it picked', () => {
    const withEvent = (token: string) =>
      state({
        actionEvent: { token, recordId: '1-0', name: 'purchased', properties: { item: 'Hat' } },
        trigger: { name: 'signed_up', properties: { item: 'none' } },
      });
    const later = decideMember(input({ state: withEvent('5') }));
    expect(later).toMatchObject({ kind: 'update', update: { set: { greeted: 'Hi Ada' } } });
    const itemJourney = validExample((draft) => {
      const steps = draft.steps as Record<string, Record<string, unknown>>;
      steps.welcome!.next = 'mark';
      steps.mark = { type: 'user_update', set: { lastItem: '{{ event.item }}' }, next: 'wait' };
    });
    const read = (token: string) => decideMember({ ...input({ state: withEvent(token) }), journey: itemJourney });
    expect(read('5')).toMatchObject({ kind: 'update', update: { set: { lastItem: 'Hat' } } });
    // An event claimed for the wait this very item times out of is not the entry's: the trigger's is read.
    expect(read('1')).toMatchObject({ kind: 'update', update: { set: { lastItem: 'none' } } });
  });
});
