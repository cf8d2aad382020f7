import { describe, expect, it } from 'vitest';
import {
  decideMember,
  exampleJourney,
  JourneyDefinitionSchema,
  LOCK_MARGIN_MS,
  settleSend,
  skipReason,
  visitMessageId,
  type EntryState,
  type MemberInput,
  type MessageRecord,
  type PendingSend,
} from '../../src/index.js';

const journey = JourneyDefinitionSchema.parse(exampleJourney);
const noon = Date.parse('2026-11-23T12:00:00Z');
const policy = { windowMs: 60 * 60 * 1000, baseDelayMs: 1_000, maxDelayMs: 60_000 };

function state(over: Partial<EntryState> = {}): EntryState {
  return {
    journeyId: 'j1',
    userId: 'u1',
    version: 1,
    entryId: 'e1',
    status: 'active',
    stepId: 'welcome',
    token: '0',
    trigger: null,
    awaiting: null,
    actionEvent: null,
    messages: {},
    path: { steps: [], branches: [] },
    convertedAt: null,
    lastEnteredAt: noon,
    ...over,
  };
}
function input(over: Partial<MemberInput> = {}): MemberInput {
  return {
    journey,
    journeyId: 'j1',
    version: 1,
    item: { stepId: 'welcome', userId: 'u1', entryId: 'e1', expectedToken: '', ownToken: '0' },
    state: state(),
    user: { firstName: 'Ada', plan: 'pro' },
    now: noon,
    ...over,
  };
}
function pending(over: Partial<MemberInput> = {}): PendingSend {
  const decision = decideMember(input(over));
  if (decision.kind !== 'send') throw new Error(`expected a send, got ${decision.kind}`);
  return decision;
}
const record = (over: Partial<MessageRecord>): MessageRecord => ({
  status: 'sent',
  reason: null,
  attempts: 1,
  completedAt: noon,
  token: '0',
  visit: 1,
  firstAttemptAt: noon,
  nextAttemptAt: null,
  lastError: null,
  branch: null,
  request: null,
  ...over,
});

describe('decideMember', () => {
  it('does nothing for an entry that ended or is another one', () => {
    for (const read of [null, state({ status: 'completed' }), state({ entryId: 'other' })]) {
      expect(decideMember(input({ state: read }))).toMatchObject({
        kind: 'settled',
        settlement: { result: 'ended', commit: null, next: null },
      });
    }
  });

  it('asks for a send with the new visit checks (mutes, the cap window), then moves on once it is settled', () => {
    const decision = pending();
    expect(decision.message).toMatchObject({
      stepId: 'welcome',
      payload: { text: 'Hi Ada' },
      branchId: null,
      messageId: visitMessageId('j1', 'u1', 'e1', 'welcome', 1),
    });
    expect(decision.checks).toEqual({
      messageType: 'onboarding',
      frequencyCap: { messages: 3, per: 'P1D' },
      capWindowStart: noon - 86_400_000,
    });
    const settled = settleSend(decision, { status: 'sent' }, policy);
    expect(settled).toMatchObject({
      result: 'done',
      next: { stepId: 'wait', dueAt: noon, expectedToken: '0', ownToken: '1' },
      commit: {
        key: '0',
        expectedToken: '0',
        token: '1',
        stepId: 'wait',
        status: 'active',
        message: { stepId: 'welcome', record: { status: 'sent', attempts: 1, token: '0', visit: 1, completedAt: noon } },
      },
      counts: [],
      lockTtlMs: LOCK_MARGIN_MS,
    });
    expect(settled.commitCounts).toEqual([
      { stepId: 'welcome', counter: 'entered' },
      { stepId: 'welcome', counter: 'sent' },
    ]);
  });

  it('schedules the same item for a retry, keeps the attempts, and fails the message once the window is spent', () => {
    const first = settleSend(pending(), { status: 'retry', error: 'HTTP 503' }, policy);
    expect(first.result).toBe('retrying');
    expect(first.commit).toMatchObject({
      key: '0@1',
      token: '0',
      stepId: 'welcome',
      status: 'active',
      message: { record: { status: 'retrying', attempts: 1, lastError: 'HTTP 503', completedAt: null } },
    });
    const nextAt = first.commit!.message!.record.nextAttemptAt!;
    expect(first.next).toEqual({ stepId: 'welcome', dueAt: nextAt, expectedToken: '', ownToken: '0' });
    expect(first.lockTtlMs).toBe(nextAt - noon + LOCK_MARGIN_MS);
    expect(first.commitCounts).toEqual([{ stepId: 'welcome', counter: 'entered' }]);

    // Before it is due, a retried try of the same item only waits; once due, it attempts again (no checks: decided).
    const retrying = state({ messages: { welcome: first.commit!.message!.record } });
    expect(decideMember(input({ state: retrying, now: nextAt - 1 }))).toMatchObject({
      kind: 'settled',
      settlement: { result: 'retrying', commit: null, next: { dueAt: nextAt } },
    });
    const again = pending({ state: retrying, now: nextAt });
    expect(again.checks).toBeNull();
    const exhausted = settleSend(again, { status: 'retry' }, { ...policy, windowMs: nextAt - noon });
    expect(exhausted.commit).toMatchObject({
      key: '0',
      message: { record: { status: 'failed', reason: 'retries_exhausted', attempts: 2, firstAttemptAt: noon } },
    });
    expect(exhausted.commitCounts).toEqual([{ stepId: 'welcome', counter: 'failed' }]);
  });

  it('moves on without a new record when an earlier try of the item ended the message', () => {
    const decision = decideMember(input({ state: state({ messages: { welcome: record({}) } }) }));
    expect(decision).toMatchObject({
      kind: 'settled',
      settlement: { result: 'done', next: { stepId: 'wait' }, commit: { key: '0', token: '1' } },
    });
    expect(decision.kind === 'settled' && decision.settlement.commit?.message).toBeUndefined();
  });

  it('records a skip, and counts the branch a send came through', () => {
    const vip = pending({
      item: { stepId: 'split', userId: 'u1', entryId: 'e1', expectedToken: '1', ownToken: '2' },
      state: state({ token: '2', stepId: 'split' }),
    });
    expect(vip.message).toMatchObject({ stepId: 'vipMsg', branchId: 'vip' });
    expect(settleSend(vip, { status: 'sent' }, policy).commitCounts).toEqual([
      { stepId: 'split', counter: 'entered' },
      { stepId: 'split', branchId: 'vip', counter: 'entered' },
      { stepId: 'vipMsg', counter: 'entered' },
      { stepId: 'vipMsg', counter: 'sent' },
      { stepId: 'split', branchId: 'vip', counter: 'sent' },
    ]);
    const skipped = settleSend(vip, { status: 'skipped', reason: 'muted' }, policy);
    expect(skipped.commit).toMatchObject({
      status: 'completed',
      message: { stepId: 'vipMsg', record: { status: 'skipped', reason: 'muted', attempts: 0 } },
    });
  });

  it('waits out a delay and an action path with a lock that outlives them', () => {
    const wait = decideMember(
      input({
        item: { stepId: 'wait', userId: 'u1', entryId: 'e1', expectedToken: '0', ownToken: '1' },
        state: state({ token: '1', stepId: 'wait' }),
      }),
    );
    expect(wait).toMatchObject({
      kind: 'settled',
      settlement: { next: { stepId: 'split', dueAt: noon + 5_000 }, lockTtlMs: 5_000 + LOCK_MARGIN_MS, commit: { key: '1', token: '2' } },
    });
    const act = decideMember(
      input({
        user: { plan: 'free' },
        item: { stepId: 'split', userId: 'u1', entryId: 'e1', expectedToken: '1', ownToken: '2' },
        state: state({ token: '2', stepId: 'split' }),
      }),
    );
    expect(act).toMatchObject({
      kind: 'settled',
      settlement: {
        commit: { token: '2', awaiting: { stepId: 'act', token: '2', deadline: noon + 3_600_000 } },
        next: { stepId: 'act', ownToken: '3.timeout' },
        lockTtlMs: 3_600_000 + LOCK_MARGIN_MS,
      },
    });
  });

  it('ends the entry of a walk that cannot go on (a fault), counting it exited at the item step', () => {
    // No rule admits it (a duration past the range of dates), so it is built past the schema, as a hand edit would be.
    const broken = {
      ...journey,
      steps: { ...journey.steps, wait: { type: 'delay', duration: 'P999999999Y', next: 'split' } },
    } as typeof journey;
    const decision = decideMember(
      input({
        journey: broken,
        item: { stepId: 'wait', userId: 'u1', entryId: 'e1', expectedToken: '0', ownToken: '1' },
        state: state({ token: '1', stepId: 'wait' }),
      }),
    );
    expect(decision).toMatchObject({
      kind: 'fault',
      settlement: { commit: { status: 'exited', stepId: null }, commitCounts: [{ stepId: 'wait', counter: 'exited' }] },
    });
  });

  it('skips a new visit for a mute or a reached cap', () => {
    const { checks } = pending();
    expect(skipReason(checks!, { muted: true, sentAt: [] }, noon)).toBe('muted');
    expect(skipReason(checks!, { muted: false, sentAt: [noon - 3, noon - 2, noon - 1] }, noon)).toBe('frequency_cap');
    expect(skipReason(checks!, { muted: false, sentAt: [noon - 2, noon - 1] }, noon)).toBeNull();
  });
});
