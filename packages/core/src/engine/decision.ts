import type { JsonObject } from '../data/json.js';
import type { ActionPath } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import type { MessageVisit } from './message-visit.js';

/** What a user entry does at a step; the worker carries it out. All times are epoch milliseconds. */
export type StepDecision = SendDecision | WaitDecision | BranchDecision | AwaitDecision | UpdateDecision | ExitDecision | EndDecision;

/** Send one webhook, then continue at `next`. */
export interface SendDecision {
  kind: 'send';
  stepId: string;
  /** Deterministic for (journey, user, entry, step, visit): a retried send carries the same id. */
  messageId: string;
  /** Which visit of the step this is, and how its message stands so far (new, waiting to retry, or ended). */
  visit: MessageVisit;
  messageType: string;
  /** The step's request with its templates rendered for this user and event (empty when `renderError`). */
  method: 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  payload: JsonObject;
  /** The step's signing secret, if any: the channel signs each attempt with it. */
  secret: string | null;
  /** Why the templates could not be rendered (a bound passed, a filter failed): the message fails without a send. */
  renderError: string | null;
  /** The earliest time the message may go: `now`, or the end of the user's quiet hours. */
  notBefore: EpochMs;
  next: string | null;
}

/** Sleep until `until`, then continue at `next` (a `delay` step). */
export interface WaitDecision {
  kind: 'wait';
  stepId: string;
  until: EpochMs;
  next: string | null;
}

/**
 * Continue at `next` at once, having taken branch `branchId`: an audience split's matching branch (or
 * "else"), an experiment's variant, or an action path (or "timeout").
 */
export interface BranchDecision {
  kind: 'branch';
  stepId: string;
  branchId: string;
  next: string | null;
}

/** Wait for one of `paths`' events until `deadline`; when none came, continue at `timeout`. */
export interface AwaitDecision {
  kind: 'await';
  stepId: string;
  deadline: EpochMs;
  paths: ActionPath[];
  timeout: string | null;
}

/** A `user_update` step: apply `set` / `unset` to the user (once per visit), then continue at `next`. */
export interface UpdateDecision {
  kind: 'update';
  stepId: string;
  next: string | null;
}

/** The user leaves the journey at an `exit` step. */
export interface ExitDecision {
  kind: 'exit';
  stepId: string;
}

/** The journey is over for this entry (the previous step's `next` was null). */
export interface EndDecision {
  kind: 'end';
}
