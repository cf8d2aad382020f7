import { afterEach, describe, expect, it, vi } from 'vitest';
import { assignVariant, experimentSeed } from '../../src/experiment/assign.js';
import { messageId } from '../../src/engine/message-id.js';
import { planStep, UnknownStepError, type StepContext } from '../../src/engine/plan-step.js';
import { validExample } from './journey.js';

const at = (iso: string) => Date.parse(iso);
const journey = validExample();
const noon = at('2024-01-15T12:00:00Z');

function context(overrides: Partial<StepContext> = {}): StepContext {
  return {
    journeyId: 'j1',
    version: 3,
    userId: 'u1',
    entryId: 'e1',
    user: { firstName: 'Ada', plan: 'free', country: 'US' },
    event: { item: 'Hat' },
    now: noon,
    ...overrides,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('message steps', () => {
  it('send the rendered payload to the webhook, then continue', () => {
    expect(planStep(journey, 'welcome', context())).toEqual({
      kind: 'send',
      stepId: 'welcome',
      messageId: messageId('j1', 'u1', 'e1', 'welcome'),
      visit: { kind: 'new', visit: 1, messageId: messageId('j1', 'u1', 'e1', 'welcome') },
      messageType: 'onboarding',
      method: 'POST',
      url: 'http://127.0.0.1:9999/hook',
      headers: {},
      payload: { text: 'Hi Ada' },
      secret: null,
      renderError: null,
      notBefore: noon,
      next: 'wait',
    });
  });

  it('render event properties', () => {
    expect(planStep(journey, 'thanks', context())).toMatchObject({ kind: 'send', payload: { text: 'Thanks for Hat' }, next: null });
  });

  it('hold sends during quiet hours until the window ends in the user zone', () => {
    const lateNight = at('2024-01-15T23:00:00Z');
    expect(planStep(journey, 'welcome', context({ now: lateNight }))).toMatchObject({ notBefore: at('2024-01-16T08:00:00Z') });
    // 23:00Z is 08:00 in Tokyo: not quiet there.
    const tokyoUser = { firstName: 'Ada', timezone: 'Asia/Tokyo' };
    expect(planStep(journey, 'welcome', context({ now: lateNight, user: tokyoUser }))).toMatchObject({ notBefore: lateNight });
    // An explicit timezoneAttr wins over the attribute; an invalid one falls back to the journey's UTC.
    expect(planStep(journey, 'welcome', context({ now: lateNight, user: tokyoUser, timezoneAttr: 'Bad/Zone' }))).toMatchObject({
      notBefore: at('2024-01-16T08:00:00Z'),
    });
  });

  it('carry the same message id for the same entry and a different one for another entry', () => {
    const first = planStep(journey, 'welcome', context());
    const retried = planStep(journey, 'welcome', context({ now: noon + 60_000 }));
    const otherEntry = planStep(journey, 'welcome', context({ entryId: 'e2' }));
    expect(first.kind === 'send' && retried.kind === 'send' && first.messageId === retried.messageId).toBe(true);
    expect(first.kind === 'send' && otherEntry.kind === 'send' && first.messageId !== otherEntry.messageId).toBe(true);
  });
});

describe('delay steps', () => {
  it('wait for a duration', () => {
    expect(planStep(journey, 'wait', context())).toEqual({ kind: 'wait', stepId: 'wait', until: noon + 5_000, next: 'split' });
  });

  it('wait until the next wall-clock time in the user zone', () => {
    const until = validExample((j) => {
      j.steps.wait = { type: 'delay', until: { time: '09:00', timezone: 'user' }, next: 'split' };
    });
    // Noon UTC is 07:00 in New York: 09:00 EST is two hours later.
    const newYorker = { timezone: 'America/New_York' };
    expect(planStep(until, 'wait', context({ user: newYorker }))).toMatchObject({ until: at('2024-01-15T14:00:00Z') });
    // An invalid user zone falls back to the journey's zone (UTC): 09:00Z tomorrow.
    expect(planStep(until, 'wait', context({ user: { timezone: 'Mars/Base' } }))).toMatchObject({ until: at('2024-01-16T09:00:00Z') });
  });

  it('falls back to the journey zone set in settings', () => {
    const berlin = validExample((j) => {
      j.settings.timezone = 'Europe/Berlin';
      j.steps.wait = { type: 'delay', until: { time: '09:00' }, next: 'split' };
    });
    expect(planStep(berlin, 'wait', context({ user: {} }))).toMatchObject({ until: at('2024-01-16T08:00:00Z') });
  });

  it('wait until a time in a fixed zone regardless of the user', () => {
    const fixed = validExample((j) => {
      j.steps.wait = { type: 'delay', until: { time: '09:00', timezone: 'Asia/Tokyo' }, next: 'split' };
    });
    expect(planStep(fixed, 'wait', context({ user: { timezone: 'America/New_York' } }))).toMatchObject({
      until: at('2024-01-16T00:00:00Z'),
    });
  });
});

describe('audience splits', () => {
  it('take the first matching branch', () => {
    expect(planStep(journey, 'split', context({ user: { plan: 'pro' } }))).toEqual({
      kind: 'branch',
      stepId: 'split',
      branchId: 'vip',
      next: 'vipMsg',
    });
  });

  it('take else when no branch matches, including for a missing attribute', () => {
    expect(planStep(journey, 'split', context())).toEqual({ kind: 'branch', stepId: 'split', branchId: 'else', next: 'act' });
    expect(planStep(journey, 'split', context({ user: {} }))).toMatchObject({ branchId: 'else' });
  });

  it('check branches in order', () => {
    const ordered = validExample((j) => {
      j.steps.split.branches.unshift({ id: 'us', when: { attr: 'country', op: 'eq', value: 'US' }, next: 'act' });
    });
    expect(planStep(ordered, 'split', context({ user: { plan: 'pro', country: 'US' } }))).toMatchObject({ branchId: 'us' });
  });
});

describe('action paths', () => {
  it('await the listed events until the window closes', () => {
    expect(planStep(journey, 'act', context())).toEqual({
      kind: 'await',
      stepId: 'act',
      deadline: noon + 3_600_000,
      paths: [{ id: 'bought', event: 'purchased', next: 'thanks' }],
      timeout: 'ab',
    });
  });
});

describe('experiments', () => {
  it('branch to the variant assigned for this entry', () => {
    const decision = planStep(journey, 'ab', context());
    const expected = assignVariant(
      journey.steps['ab']?.type === 'experiment' ? journey.steps['ab'].variants : [],
      experimentSeed('j1', 'e1', 'ab'),
    );
    expect(decision).toEqual({ kind: 'branch', stepId: 'ab', branchId: expected.id, next: expected.next });
  });

  it('send control nowhere and the others to their message', () => {
    const nextByVariant = new Map<string, string | null>();
    for (let i = 0; i < 300; i++) {
      const decision = planStep(journey, 'ab', context({ entryId: `e${i}` }));
      if (decision.kind === 'branch') nextByVariant.set(decision.branchId, decision.next);
    }
    expect(Object.fromEntries(nextByVariant)).toEqual({ A: 'msgA', B: 'msgB', control: null });
  });

  it('keep the assignment of an entry whatever the time or user attributes', () => {
    const first = planStep(journey, 'ab', context({ entryId: 'e42' }));
    expect(planStep(journey, 'ab', context({ entryId: 'e42', now: noon + 86_400_000, user: { plan: 'pro' } }))).toEqual(first);
  });
});

describe('ends', () => {
  it('exit at an exit step', () => {
    expect(planStep(journey, 'bye', context())).toEqual({ kind: 'exit', stepId: 'bye' });
  });

  it('end when there is no next step', () => {
    expect(planStep(journey, null, context())).toEqual({ kind: 'end' });
  });

  it('refuse a step the journey does not have', () => {
    expect(() => planStep(journey, 'nope', context())).toThrow(UnknownStepError);
    expect(() => planStep(journey, 'toString', context())).toThrow(/has no step "toString"/);
  });
});

describe('purity', () => {
  it('never reads the clock and gives the same decision for the same inputs', () => {
    const clock = vi.spyOn(Date, 'now');
    for (const stepId of Object.keys(journey.steps)) {
      expect(planStep(journey, stepId, context())).toEqual(planStep(journey, stepId, context()));
    }
    expect(clock).not.toHaveBeenCalled();
  });
});
