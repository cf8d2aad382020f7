import { describe, expect, it } from 'vitest';
import { exampleJourney, JourneyDefinitionSchema, messageId, messageVisit, visitMessageId, walkEntry } from '../../src/index.js';

const ids = { journeyId: 'j1', userId: 'u1', entryId: 'e1', stepId: 'remind' };

describe('messageVisit', () => {
  it('makes the first visit of a step with the step message id', () => {
    expect(messageVisit(ids, undefined, '0')).toEqual({ kind: 'new', visit: 1, messageId: messageId('j1', 'u1', 'e1', 'remind') });
  });

  it('tells a retried item (its own token on the record) from a later visit (another token)', () => {
    const sent = { status: 'sent' as const, token: '3', visit: 2, attempts: 1 };
    expect(messageVisit(ids, sent, '3')).toEqual({ kind: 'ended', visit: 2, messageId: visitMessageId('j1', 'u1', 'e1', 'remind', 2) });
    expect(messageVisit(ids, sent, '5')).toEqual({ kind: 'new', visit: 3, messageId: visitMessageId('j1', 'u1', 'e1', 'remind', 3) });
  });

  it('continues a visit whose message waits for another attempt', () => {
    const retrying = { status: 'retrying' as const, token: '1', visit: 1, attempts: 4, firstAttemptAt: 1_000 };
    expect(messageVisit(ids, retrying, '1')).toMatchObject({ kind: 'retry', visit: 1, attempts: 4, firstAttemptAt: 1_000 });
  });

  it('takes a record kept before visits were told apart as this visit, so it is never sent twice', () => {
    expect(messageVisit(ids, { status: 'sent', attempts: 1 }, '7')).toMatchObject({ kind: 'ended', visit: 1 });
  });

  it('gives every visit its own id, and the first visit the id of the step', () => {
    const all = [1, 2, 3].map((visit) => visitMessageId('j1', 'u1', 'e1', 'remind', visit));
    expect(new Set(all).size).toBe(3);
    expect(all[0]).toBe(messageId('j1', 'u1', 'e1', 'remind'));
    expect(() => visitMessageId('j1', 'u1', 'e1', 'remind', 0)).toThrow(RangeError);
  });

  it('reaches the walk: a message step visited again sends with the next visit id', () => {
    const journey = JourneyDefinitionSchema.parse(exampleJourney);
    const context = {
      journeyId: 'j1',
      version: 1,
      userId: 'u1',
      entryId: 'e1',
      user: { firstName: 'Ada' },
      now: Date.parse('2026-11-23T12:00:00Z'),
    };
    const earlier = { welcome: { status: 'sent' as const, token: '0', visit: 1, attempts: 1 } };
    const { outcome } = walkEntry(journey, { stepId: 'welcome', expectedToken: '4', ownToken: '5' }, { ...context, messages: earlier });
    expect(outcome).toMatchObject({
      kind: 'send',
      send: { messageId: visitMessageId('j1', 'u1', 'e1', 'welcome', 2), visit: { kind: 'new', visit: 2 } },
    });
  });
});
