import type { EpochMs } from '../time/epoch.js';
import { messageId } from './message-id.js';
import type { RenderedRequest } from '../template/journey-templates.js';

/** How a message step's message stands in the entry: ended (sent, failed or skipped) or waiting for another attempt. */
export type MessageRecordStatus = 'sent' | 'failed' | 'skipped' | 'retrying';

/** What an entry keeps of the last visit of a message step, as far as telling visits apart needs. */
export interface MessageVisitRecord {
  status: MessageRecordStatus;
  /** The token of the item that visited the step; absent on records kept before visits were told apart. */
  token?: string | null | undefined;
  /** 1 for the first visit of the step in the entry; absent reads as 1. */
  visit?: number | null | undefined;
  /** HTTP attempts made so far. */
  attempts: number;
  /** When the first attempt was made (a retry's window counts from it). */
  firstAttemptAt?: EpochMs | null | undefined;
  /** While retrying: the request the first attempt sent, which every later attempt sends again. */
  request?: RenderedRequest | null | undefined;
}

export type MessageVisit =
  /** This visit's message ended already (a retried item): keep its record, send nothing. */
  | { kind: 'ended'; visit: number; messageId: string }
  /** This visit's message waits for another attempt: `attempts` were made since `firstAttemptAt`. */
  | { kind: 'retry'; visit: number; messageId: string; attempts: number; firstAttemptAt: EpochMs }
  /** Nothing was tried for this visit yet. */
  | { kind: 'new'; visit: number; messageId: string };

/**
 * Which visit of a message step an item makes, and what became of its message so far. A step reached again in the
 * same entry (a loop through a delay or an action path) is a new visit with a message of its own; each item of an
 * entry holds a token of its own, so the record's token tells whether it is this item's visit or an earlier one.
 * A record without a token predates visits: it is taken as this visit's, so an upgrade never sends one twice.
 */
export function messageVisit(
  ids: { journeyId: string; userId: string; entryId: string; stepId: string },
  record: MessageVisitRecord | undefined,
  itemToken: string,
): MessageVisit {
  const id = (visit: number) => visitMessageId(ids.journeyId, ids.userId, ids.entryId, ids.stepId, visit);
  if (record === undefined) return { kind: 'new', visit: 1, messageId: id(1) };
  const recorded = record.visit ?? 1;
  const mine = record.token === undefined || record.token === null || record.token === itemToken;
  if (!mine) return { kind: 'new', visit: recorded + 1, messageId: id(recorded + 1) };
  if (record.status === 'retrying') {
    return {
      kind: 'retry',
      visit: recorded,
      messageId: id(recorded),
      attempts: record.attempts,
      firstAttemptAt: record.firstAttemptAt ?? 0,
    };
  }
  return { kind: 'ended', visit: recorded, messageId: id(recorded) };
}

/** The message id of a visit: the first visit's is the step's id, so ids of entries without loops never change. */
export function visitMessageId(journeyId: string, userId: string, entryId: string, stepId: string, visit: number): string {
  if (!Number.isSafeInteger(visit) || visit < 1) throw new RangeError(`visit must be a positive integer, got ${visit}`);
  return visit === 1 ? messageId(journeyId, userId, entryId, stepId) : messageId(journeyId, userId, entryId, `${stepId}#${visit}`);
}
