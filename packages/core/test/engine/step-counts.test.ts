import { describe, expect, it } from 'vitest';
import {
  conversionCounts,
  exampleJourney,
  JOURNEY_TOTAL,
  JourneyDefinitionSchema,
  messageCounts,
  walkCounts,
  walkEntry,
} from '../../src/index.js';

const journey = JourneyDefinitionSchema.parse(exampleJourney);
const context = {
  journeyId: 'j1',
  version: 1,
  userId: 'u1',
  entryId: 'e1',
  user: { plan: 'pro' },
  now: Date.parse('2026-11-23T12:00:00Z'),
};

describe('step counts', () => {
  it('counts every step a walk arrives at and every branch it takes, leaving message steps to their records', () => {
    const walk = walkEntry(journey, { stepId: 'split', expectedToken: '1', ownToken: '2' }, context);
    expect(walk.reached).toEqual(['split', 'vipMsg']);
    expect(walkCounts(journey, walk)).toEqual([
      { stepId: 'split', counter: 'entered' },
      { stepId: 'split', branchId: 'vip', counter: 'entered' },
    ]);
  });

  it('does not count an action_paths step again when an event resolves it, only the path taken', () => {
    const walk = walkEntry(journey, { stepId: 'act', expectedToken: '2', ownToken: '3.bought' }, { ...context, event: { item: 'Hat' } });
    expect(walk.reached).toEqual(['thanks']);
    expect(walkCounts(journey, walk)).toEqual([{ stepId: 'act', branchId: 'bought', counter: 'entered' }]);
  });

  it('counts a conversion for the journey and once at every step and branch of the path, control included', () => {
    expect(conversionCounts({ steps: ['welcome', 'ab', 'welcome'], branches: ['ab:control', 'split:else'] })).toEqual([
      { stepId: JOURNEY_TOTAL, counter: 'converted' },
      { stepId: 'welcome', counter: 'converted' },
      { stepId: 'ab', counter: 'converted' },
      { stepId: 'ab', branchId: 'control', counter: 'converted' },
      { stepId: 'split', branchId: 'else', counter: 'converted' },
    ]);
  });

  it("counts a message visit's entry once, and its outcome once it ended", () => {
    const branch = { stepId: 'split', branchId: 'vip' };
    expect(messageCounts('vipMsg', { firstOfVisit: true, status: 'retrying' }, branch)).toEqual([{ stepId: 'vipMsg', counter: 'entered' }]);
    expect(messageCounts('vipMsg', { firstOfVisit: false, status: 'sent' }, branch)).toEqual([
      { stepId: 'vipMsg', counter: 'sent' },
      { stepId: 'split', branchId: 'vip', counter: 'sent' },
    ]);
    expect(messageCounts('vipMsg', { firstOfVisit: true, status: 'skipped' }, branch)).toEqual([
      { stepId: 'vipMsg', counter: 'entered' },
      { stepId: 'vipMsg', counter: 'skipped' },
    ]);
  });
});
