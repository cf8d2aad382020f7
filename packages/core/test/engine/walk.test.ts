import { describe, expect, it } from 'vitest';
import { exampleJourney, JourneyDefinitionSchema, walkEntry, type StepContext } from '../../src/index.js';

const journey = JourneyDefinitionSchema.parse(exampleJourney);
const noon = Date.parse('2026-11-23T12:00:00Z');
const context = (over: Partial<StepContext> = {}): StepContext => ({
  journeyId: 'jrn_1',
  version: 1,
  userId: 'u1',
  entryId: 'e1',
  user: { firstName: 'Ada', plan: 'free', country: 'US' },
  event: { item: 'hat' },
  now: noon,
  ...over,
});

describe('walkEntry', () => {
  it('sends a message and schedules the next step now, holding the next token', () => {
    const { outcome, branches } = walkEntry(journey, { stepId: 'welcome', expectedToken: '', ownToken: '0' }, context());
    expect(branches).toEqual([]);
    expect(outcome).toMatchObject({
      kind: 'send',
      send: { stepId: 'welcome', payload: { text: 'Hi Ada' }, url: 'http://127.0.0.1:9999/hook' },
      then: { stepId: 'wait', dueAt: noon, expectedToken: '0', ownToken: '1' },
    });
  });

  it('defers a send inside quiet hours to their end, with the same tokens', () => {
    const late = Date.parse('2026-11-23T23:00:00Z');
    const { outcome } = walkEntry(journey, { stepId: 'welcome', expectedToken: '', ownToken: '0' }, context({ now: late }));
    expect(outcome).toEqual({
      kind: 'defer',
      retry: { stepId: 'welcome', dueAt: Date.parse('2026-11-24T08:00:00Z'), expectedToken: '', ownToken: '0' },
    });
  });

  it('waits out a delay', () => {
    const { outcome } = walkEntry(journey, { stepId: 'wait', expectedToken: '0', ownToken: '1' }, context());
    expect(outcome).toEqual({
      kind: 'wait',
      stepId: 'wait',
      then: { stepId: 'split', dueAt: noon + 5_000, expectedToken: '1', ownToken: '2' },
    });
  });

  it('takes an audience split branch and the message behind it in one walk', () => {
    const { outcome, branches } = walkEntry(
      journey,
      { stepId: 'split', expectedToken: '1', ownToken: '2' },
      context({ user: { plan: 'pro' } }),
    );
    expect(branches.map((b) => [b.stepId, b.branchId])).toEqual([['split', 'vip']]);
    expect(outcome).toMatchObject({ kind: 'send', send: { stepId: 'vipMsg', payload: { text: 'VIP' } }, then: null });
  });

  it('stops at an action_paths step with a timeout item that expects the same token as any path item', () => {
    const { outcome, branches } = walkEntry(journey, { stepId: 'split', expectedToken: '1', ownToken: '2' }, context());
    expect(branches.map((b) => b.branchId)).toEqual(['else']);
    expect(outcome).toEqual({
      kind: 'await',
      stepId: 'act',
      deadline: noon + 3_600_000,
      timeout: { stepId: 'act', dueAt: noon + 3_600_000, expectedToken: '2', ownToken: '3.timeout' },
    });
  });

  it('resolves an action path from its token: the event path and the timeout path', () => {
    const bought = walkEntry(journey, { stepId: 'act', expectedToken: '2', ownToken: '3.bought' }, context());
    expect(bought.branches.map((b) => b.branchId)).toEqual(['bought']);
    expect(bought.outcome).toMatchObject({ kind: 'send', send: { stepId: 'thanks', payload: { text: 'Thanks for hat' } }, then: null });

    const timedOut = walkEntry(journey, { stepId: 'act', expectedToken: '2', ownToken: '3.timeout' }, context({ entryId: 'e-any' }));
    expect(timedOut.branches[0]).toMatchObject({ stepId: 'act', branchId: 'timeout', next: 'ab' });
    expect(timedOut.branches[1]?.stepId).toBe('ab');
    const variant = timedOut.branches[1]?.branchId;
    if (variant === 'control') expect(timedOut.outcome).toEqual({ kind: 'end' });
    else expect(timedOut.outcome).toMatchObject({ kind: 'send', send: { stepId: variant === 'A' ? 'msgA' : 'msgB' } });
  });

  it('ends, exits and refuses a path the step does not have', () => {
    expect(walkEntry(journey, { stepId: 'bye', expectedToken: '5', ownToken: '6' }, context()).outcome).toEqual({
      kind: 'exit',
      stepId: 'bye',
    });
    const withNext = walkEntry(journey, { stepId: 'msgB', expectedToken: '4', ownToken: '5' }, context());
    expect(withNext.outcome).toMatchObject({ kind: 'send', then: { stepId: 'bye', expectedToken: '5', ownToken: '6' } });
    expect(() => walkEntry(journey, { stepId: 'act', expectedToken: '2', ownToken: '3.nope' }, context())).toThrow(/no path "nope"/);
  });
});
