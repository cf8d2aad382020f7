import { describe, expect, it } from 'vitest';
import { groupBy } from '../../src/data/group-by.js';
import { actionPathTaken, actionPathsTimedOut, matchActionPath } from '../../src/engine/action-paths.js';
import { isInAudience, mayReenter, shouldExit, triggerMatchesEvent } from '../../src/engine/entry.js';
import { scheduledAt } from '../../src/engine/schedule.js';
import { FREQUENCY_CAP_LOOKBACK_MS, frequencyCapWindowStart, isFrequencyCapped } from '../../src/engine/frequency-cap.js';
import { messageId } from '../../src/engine/message-id.js';
import type { ActionPathsStep } from '../../src/journey/schema.js';
import { validExample } from './journey.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('matchActionPath', () => {
  const step: ActionPathsStep = {
    type: 'action_paths',
    window: 'PT1H',
    paths: [
      { id: 'bigOrder', event: 'purchased', where: { prop: 'amount', op: 'gte', value: 100 }, next: 'vip' },
      { id: 'order', event: 'purchased', next: 'thanks' },
      { id: 'proBrowse', event: 'viewed', where: { attr: 'plan', op: 'eq', value: 'pro' }, next: 'upsell' },
    ],
    timeout: 'nudge',
  };

  it('takes the first path whose event and filter match', () => {
    expect(matchActionPath(step, { name: 'purchased', properties: { amount: 250 } })?.id).toBe('bigOrder');
    expect(matchActionPath(step, { name: 'purchased', properties: { amount: 20 } })?.id).toBe('order');
    expect(matchActionPath(step, { name: 'purchased' })?.id).toBe('order');
  });

  it('lets filters read user attributes', () => {
    expect(matchActionPath(step, { name: 'viewed' }, { plan: 'pro' })?.id).toBe('proBrowse');
    expect(matchActionPath(step, { name: 'viewed' }, { plan: 'free' })).toBeNull();
  });

  it('ignores other events', () => {
    expect(matchActionPath(step, { name: 'signed_up', properties: { amount: 500 } })).toBeNull();
  });

  it('turns a match or the timeout into a branch decision', () => {
    const path = matchActionPath(step, { name: 'purchased' });
    expect(path && actionPathTaken('act', path)).toEqual({ kind: 'branch', stepId: 'act', branchId: 'order', next: 'thanks' });
    expect(actionPathsTimedOut('act', step)).toEqual({ kind: 'branch', stepId: 'act', branchId: 'timeout', next: 'nudge' });
  });
});

describe('messageId', () => {
  it('is a deterministic UUID-shaped id', () => {
    const id = messageId('j1', 'u1', 'e1', 'welcome');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(messageId('j1', 'u1', 'e1', 'welcome')).toBe(id);
  });

  it('differs when any part differs, and parts cannot bleed into each other', () => {
    const ids = new Set([
      messageId('j1', 'u1', 'e1', 'welcome'),
      messageId('j2', 'u1', 'e1', 'welcome'),
      messageId('j1', 'u2', 'e1', 'welcome'),
      messageId('j1', 'u1', 'e2', 'welcome'),
      messageId('j1', 'u1', 'e1', 'thanks'),
      messageId('a:b', 'c', 'e', 's'),
      messageId('a', 'b:c', 'e', 's'),
    ]);
    expect(ids.size).toBe(7);
  });
});

describe('isFrequencyCapped', () => {
  const cap = { messages: 3, per: 'P1D' };
  const now = at('2024-01-15T12:00:00Z');

  it('allows sends below the cap and stops at it', () => {
    expect(isFrequencyCapped([now - HOUR, now - 2 * HOUR], cap, now)).toBe(false);
    expect(isFrequencyCapped([now - HOUR, now - 2 * HOUR, now - 3 * HOUR], cap, now)).toBe(true);
  });

  it('only counts sends inside the trailing window', () => {
    expect(isFrequencyCapped([now - HOUR, now - 2 * HOUR, now - DAY - 1], cap, now)).toBe(false);
    // A send exactly one period ago has left the window.
    expect(isFrequencyCapped([now - HOUR, now - 2 * HOUR, now - DAY], cap, now)).toBe(false);
    expect(isFrequencyCapped([now - HOUR, now - 2 * HOUR, now - DAY + 1], cap, now)).toBe(true);
  });

  it('is never capped without a cap', () => {
    expect(isFrequencyCapped([now, now, now, now], undefined, now)).toBe(false);
  });

  it('exposes the window start', () => {
    expect(frequencyCapWindowStart({ messages: 1, per: 'PT1H' }, now)).toBe(now - HOUR);
  });

  it('counts back at most the 31 days the engine remembers sends', () => {
    expect(frequencyCapWindowStart({ messages: 1, per: 'P31D' }, now)).toBe(now - FREQUENCY_CAP_LOOKBACK_MS);
    expect(frequencyCapWindowStart({ messages: 1, per: 'P1Y' }, now)).toBe(now - FREQUENCY_CAP_LOOKBACK_MS);
    expect(isFrequencyCapped([now - 40 * DAY], { messages: 1, per: 'P1Y' }, now)).toBe(false);
  });
});

describe('entry and exit decisions', () => {
  const journey = validExample();

  it('matches the trigger event and its where filter', () => {
    expect(triggerMatchesEvent(journey.entry.trigger, { name: 'signed_up', properties: { source: 'web' } })).toBe(true);
    expect(triggerMatchesEvent(journey.entry.trigger, { name: 'signed_up', properties: { source: 'test' } })).toBe(false);
    expect(triggerMatchesEvent(journey.entry.trigger, { name: 'logged_in' })).toBe(false);
    expect(triggerMatchesEvent({ type: 'api' }, { name: 'signed_up' })).toBe(false);
  });

  it('checks the audience', () => {
    expect(isInAudience(journey.entry, { country: 'CA' })).toBe(true);
    expect(isInAudience(journey.entry, { country: 'DE' })).toBe(false);
    expect(isInAudience({}, {})).toBe(true);
  });

  it('applies the reentry rule', () => {
    const now = at('2024-01-15T12:00:00Z');
    expect(mayReenter({ mode: 'never' }, null, now)).toBe(true);
    expect(mayReenter({ mode: 'never' }, now - 30 * DAY, now)).toBe(false);
    expect(mayReenter({ mode: 'after', after: 'P7D' }, now - 6 * DAY, now)).toBe(false);
    expect(mayReenter({ mode: 'after', after: 'P7D' }, now - 7 * DAY, now)).toBe(true);
  });

  it('exits on exit events or the exit filter', () => {
    expect(shouldExit(journey.exit, {}, { name: 'account_deleted' })).toBe(true);
    expect(shouldExit(journey.exit, { unsubscribed: true })).toBe(true);
    expect(shouldExit(journey.exit, { unsubscribed: false }, { name: 'purchased' })).toBe(false);
    expect(shouldExit(undefined, { unsubscribed: true })).toBe(false);
  });

  it('reads the time of a schedule trigger', () => {
    expect(scheduledAt({ type: 'schedule', at: '2025-06-01T09:00:00+02:00' })).toBe(at('2025-06-01T07:00:00Z'));
  });
});

describe('frequency cap window', () => {
  it('counts as far back as the history goes for a period past the range of dates', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(frequencyCapWindowStart({ messages: 1, per: 'P999999999Y' }, now)).toBe(now - FREQUENCY_CAP_LOOKBACK_MS);
  });
});

describe('groupBy', () => {
  it('groups in input order, the groups in the order of their first item', () => {
    expect([...groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (item) => item[0])]).toEqual([
      ['b', ['b1', 'b2']],
      ['a', ['a1', 'a2']],
      ['c', ['c1']],
    ]);
    expect(groupBy([], (item: string) => item).size).toBe(0);
  });
});
