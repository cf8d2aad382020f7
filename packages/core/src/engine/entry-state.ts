import type { JsonObject } from '../data/json.js';
import type { EpochMs } from '../time/epoch.js';
import type { MessageRecordStatus } from './message-visit.js';
import type { RenderedRequest } from '../template/journey-templates.js';

/**
 * A user's state in one journey as the engine's decisions read it, and what they write back. The stores convert
 * their documents to and from these; all instants are epoch milliseconds.
 */

export const ENTRY_STATUSES = ['active', 'completed', 'exited'] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];

/** Why a message was not sent: `skipped` ones by the dispatcher's checks, `failed` ones by the receiver or the window. */
export const SEND_REASONS = [
  'muted',
  'frequency_cap',
  'http_3xx',
  'http_4xx',
  'retries_exhausted',
  'invalid_url',
  'template_error',
] as const;
export type SendReason = (typeof SEND_REASONS)[number];

/** The `action_paths` step an entry waits on: an event matching one of its paths is scheduled expecting `token`. */
export interface AwaitingStep {
  stepId: string;
  token: string;
  deadline: EpochMs;
}

/** The event that picked an `action_paths` path: `token` is the awaiting token it answered, `recordId` its record. */
export interface ActionEvent {
  token: string;
  recordId: string;
  name: string;
  properties: JsonObject;
}

/** How the last visit of a message step stands (see messageVisit for visits). */
export interface MessageRecord {
  status: MessageRecordStatus;
  reason: SendReason | null;
  /** HTTP attempts so far (0 for a skip). */
  attempts: number;
  /** When it ended; null while retrying. */
  completedAt: EpochMs | null;
  /** The token of the item that made this visit; null on records kept before visits were told apart. */
  token: string | null;
  visit: number;
  firstAttemptAt: EpochMs | null;
  nextAttemptAt: EpochMs | null;
  lastError: string | null;
  /** The branch taken last before the step (the message's `branchId`): a retry sends what the first attempt sent. */
  branch: { stepId: string; branchId: string } | null;
  /** While retrying: the request of the first attempt, sent again as it was; null once the message ended. */
  request: RenderedRequest | null;
}

/** The steps an entry reached and the branches it took (`step:branch`), for its goal conversion. */
export interface EntryPath {
  steps: string[];
  branches: string[];
}

export interface EntryState {
  journeyId: string;
  userId: string;
  version: number;
  entryId: string;
  status: EntryStatus;
  /** The step the user is at; null once the entry ended. */
  stepId: string | null;
  /** The token of the item the entry expects next (the commit filter). */
  token: string;
  /** The event that entered the user; null for api and schedule entries. */
  trigger: { name: string; properties: JsonObject } | null;
  awaiting: AwaitingStep | null;
  actionEvent: ActionEvent | null;
  /** The last visit of each message step, by step id. */
  messages: Readonly<Record<string, MessageRecord>>;
  lastEnteredAt: EpochMs;
  /** What the entry reached so far. */
  path: EntryPath;
  /** When the entry converted (its journey's goal); null until then. */
  convertedAt: EpochMs | null;
}

/** One item waiting in a due set: the member's tokens (see stepToken). */
export interface DueItem {
  userId: string;
  entryId: string;
  expectedToken: string;
  ownToken: string;
}

/** A step to put into a due set: the branch (journey version and step), the second it is due, and the item. */
export interface ScheduledStep {
  branch: { journeyId: string; version: number; stepId: string };
  dueSecond: number;
  member: DueItem;
}

/** The one write that commits an item's decision for an entry (see the journey states store). */
export interface EntryCommit {
  /**
   * Names this decision of the entry (the item's token, and the attempt for a retry's record): a state that took it
   * already refuses it, so a retried try of the same item changes nothing and counts nothing twice.
   */
  key: string;
  journeyId: string;
  userId: string;
  entryId: string;
  /** The token the state must still hold. */
  expectedToken: string;
  token: string;
  stepId: string | null;
  status: EntryStatus;
  /** The step the entry waits on after this commit; absent or null clears any earlier wait. */
  awaiting?: AwaitingStep | null;
  /** The message record of the step, kept in the entry's messages by the same write. */
  message?: { stepId: string; record: MessageRecord };
  /** Steps and branches the item's walk took, added to the entry's path by the same write. */
  path?: EntryPath;
  now: EpochMs;
}
