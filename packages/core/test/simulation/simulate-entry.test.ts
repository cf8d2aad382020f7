import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  experimentSeed,
  simulateAudience,
  simulateEntry,
  type EntrySimulationInput,
  type JourneyDefinition,
  type TimelineEntry,
} from '../../src/index.js';
import { validExample } from '../engine/journey.js';

const noon = Date.parse('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;

function input(journey: JourneyDefinition, over: Partial<EntrySimulationInput> = {}): EntrySimulationInput {
  return {
    journey,
    journeyId: 'jrn_sim',
    version: 1,
    userId: 'ada',
    attributes: { firstName: 'Ada', country: 'US', plan: 'free' },
    muted: [],
    sentBefore: [],
    entryId: 'entry0000001',
    enteredAt: noon,
    trigger: { name: 'signed_up', properties: { source: 'web' } },
    events: [],
    retryPolicy: { windowMs: 24 * HOUR, baseDelayMs: 1_000, maxDelayMs: HOUR },
    until: noon + 30 * 24 * HOUR,
    ...over,
  };
}

const kinds = (timeline: TimelineEntry[]) =>
  timeline.map((entry) => `${entry.kind}${'stepId' in entry && entry.stepId ? `:${entry.stepId}` : ''}`);
const messages = (timeline: TimelineEntry[]) => timeline.filter((entry) => entry.kind === 'message');

describe('simulateEntry', () => {
  it('walks the example journey to the timeout experiment, with times, the rendered request and why each branch', () => {
    const journey = validExample();
    const result = simulateEntry(input(journey));
    const variant = result.path.find((step) => step.startsWith('ab:'));
    expect(result.path.slice(0, 7)).toEqual(['welcome', 'wait', 'split', 'split:else', 'act', 'act:timeout', 'ab']);
    const bucket = bucketOf(experimentSeed('jrn_sim', 'entry0000001', 'ab'));
    const expected = bucket < 45 ? 'A' : bucket < 90 ? 'B' : 'control';
    expect(variant).toBe(`ab:${expected}`);

    const [welcome] = messages(result.timeline);
    expect(welcome).toMatchObject({ at: noon, stepId: 'welcome', status: 'sent', reason: null });
    const body = JSON.parse(welcome!.kind === 'message' ? welcome!.request!.body : '{}');
    expect(body).toMatchObject({
      journeyId: 'jrn_sim',
      stepId: 'welcome',
      userId: 'ada',
      entryId: 'entry0000001',
      payload: { text: 'Hi Ada' },
    });
    expect(welcome!.kind === 'message' && welcome!.request!.headers['Idempotency-Key']).toBe(body.messageId);

    const wait = result.timeline.find((entry) => entry.kind === 'wait');
    expect(wait).toMatchObject({ stepId: 'wait', at: noon, until: noon + 5_000 });
    const split = result.timeline.find((entry) => entry.kind === 'branch' && entry.stepId === 'split');
    expect(split).toMatchObject({ at: noon + 5_000, branchId: 'else', reason: { kind: 'else' } });
    const timeout = result.timeline.find((entry) => entry.kind === 'branch' && entry.stepId === 'act');
    expect(timeout).toMatchObject({ at: noon + 5_000 + HOUR, branchId: 'timeout', reason: { kind: 'timeout' } });
    expect(result.timeline.find((entry) => entry.kind === 'branch' && entry.stepId === 'ab')).toMatchObject({
      reason: { kind: 'variant', bucket },
    });
    expect(result.end.status).toBe(expected === 'B' ? 'exited' : 'completed');
  });

  it('takes an action path on an event of the timeline and renders the event into the message', () => {
    const journey = validExample();
    const result = simulateEntry(input(journey, { events: [{ at: noon + 10 * 60_000, name: 'purchased', properties: { item: 'Tea' } }] }));
    expect(result.path).toEqual(['welcome', 'wait', 'split', 'split:else', 'act', 'act:bought', 'thanks']);
    expect(kinds(result.timeline)).toEqual([
      'entered:welcome',
      'step:welcome',
      'message:welcome',
      'step:wait',
      'wait:wait',
      'step:split',
      'branch:split',
      'step:act',
      'await:act',
      'event',
      'branch:act',
      'step:thanks',
      'message:thanks',
      'end:thanks',
    ]);
    const thanks = messages(result.timeline)[1]!;
    expect(thanks.kind === 'message' && JSON.parse(thanks.request!.body).payload).toEqual({ text: 'Thanks for Tea' });
    expect(result.timeline.find((entry) => entry.kind === 'branch' && entry.stepId === 'act')).toMatchObject({
      reason: { kind: 'event', event: { name: 'purchased', properties: { item: 'Tea' } } },
    });
    expect(result.end).toEqual({ status: 'completed', at: noon + 10 * 60_000, stepId: 'thanks' });
  });

  it('follows the split a user matches, naming its filter', () => {
    const result = simulateEntry(input(validExample(), { attributes: { firstName: 'Ada', country: 'US', plan: 'pro' } }));
    expect(result.path).toEqual(['welcome', 'wait', 'split', 'split:vip', 'vipMsg']);
    expect(result.timeline.find((entry) => entry.kind === 'branch')).toMatchObject({
      reason: { kind: 'filter', filter: { attr: 'plan', op: 'eq', value: 'pro' } },
    });
  });

  it('shows quiet hours moving a send, a mute and the frequency cap skipping one', () => {
    const journey = validExample();
    const night = Date.parse('2026-11-23T23:00:00Z');
    const held = simulateEntry(input(journey, { enteredAt: night, until: night + 30 * 24 * HOUR }));
    const quiet = held.timeline.find((entry) => entry.kind === 'quiet_hours');
    expect(quiet).toMatchObject({ at: night, stepId: 'welcome', sendAt: Date.parse('2026-11-24T08:00:00Z') });
    expect(messages(held.timeline)[0]).toMatchObject({ at: Date.parse('2026-11-24T08:00:00Z'), status: 'sent' });
    expect(held.path.filter((step) => step === 'welcome')).toHaveLength(1);

    const muted = simulateEntry(input(journey, { muted: ['onboarding'] }));
    expect(messages(muted.timeline)[0]).toMatchObject({ status: 'skipped', reason: 'muted', request: null });

    const capped = simulateEntry(input(journey, { sentBefore: [noon - HOUR, noon - 2 * HOUR, noon - 3 * HOUR] }));
    expect(messages(capped.timeline)[0]).toMatchObject({ status: 'skipped', reason: 'frequency_cap' });
  });

  it('exits on an exit event and on a goal with exitOnGoal, and counts a conversion', () => {
    const journey = validExample();
    const exited = simulateEntry(input(journey, { events: [{ at: noon + 60_000, name: 'account_deleted', properties: {} }] }));
    expect(exited.end).toEqual({ status: 'exited', at: noon + 60_000, stepId: 'act' });
    expect(messages(exited.timeline)).toHaveLength(1);

    const withGoal = validExample((draft) => {
      (draft as Record<string, unknown>).goal = { event: 'purchased', window: 'P7D', exitOnGoal: true };
    });
    const converted = simulateEntry(input(withGoal, { events: [{ at: noon + 2_000, name: 'purchased', properties: {} }] }));
    expect(converted.convertedAt).toBe(noon + 2_000);
    // Waiting out the delay, the entry is at the step after it (where the engine counts the exit).
    expect(converted.end).toMatchObject({ status: 'exited', at: noon + 2_000, stepId: 'split' });
    expect(converted.timeline.find((entry) => entry.kind === 'event')).toMatchObject({ effects: ['converted', 'exited'] });
  });

  it('applies a user_update once and lets later steps read it', () => {
    const journey = validExample((draft) => {
      const steps = draft.steps as Record<string, Record<string, unknown>>;
      steps.wait!.next = 'mark';
      steps.mark = { type: 'user_update', set: { plan: 'pro' }, unset: ['coupon'], next: 'split' };
    });
    const result = simulateEntry(input(journey, { attributes: { firstName: 'Ada', country: 'US', plan: 'free', coupon: 'X' } }));
    expect(result.path).toEqual(['welcome', 'wait', 'mark', 'split', 'split:vip', 'vipMsg']);
    expect(result.timeline.filter((entry) => entry.kind === 'user_update')).toEqual([
      { kind: 'user_update', at: noon + 5_000, stepId: 'mark', set: { plan: 'pro' }, unset: ['coupon'] },
    ]);
    expect(result.attributes).toEqual({ firstName: 'Ada', country: 'US', plan: 'pro' });
  });

  it('reports an entry still waiting when simulated time ends', () => {
    const result = simulateEntry(input(validExample(), { until: noon + 60_000 }));
    expect(result.end).toEqual({ status: 'active', at: noon + 60_000, stepId: 'act' });
  });
});

describe('simulateAudience', () => {
  it('gives the share of users per path', () => {
    const journey = validExample();
    const users = ['free', 'pro', 'pro', 'free'].map((plan, index) =>
      input(journey, {
        userId: `u${index}`,
        entryId: `entry000000${index}`,
        attributes: { firstName: 'A', country: 'US', plan },
        events: [{ at: noon + 60 * 60_000, name: 'purchased', properties: {} }],
      }),
    );
    const result = simulateAudience(users);
    expect(result.users).toBe(4);
    // Equal shares keep the order the paths were first taken in.
    expect(result.paths).toEqual([
      { path: ['welcome', 'wait', 'split', 'split:else', 'act', 'act:bought', 'thanks'], end: 'completed', users: 2, share: 0.5 },
      { path: ['welcome', 'wait', 'split', 'split:vip', 'vipMsg'], end: 'completed', users: 2, share: 0.5 },
    ]);
    expect(result.messages).toEqual({
      welcome: { sent: 4, skipped: 0, failed: 0 },
      vipMsg: { sent: 2, skipped: 0, failed: 0 },
      thanks: { sent: 2, skipped: 0, failed: 0 },
    });
    expect(result.ends).toEqual({ completed: 4, exited: 0, active: 0 });
  });
});
