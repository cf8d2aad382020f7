import type { JsonObject } from '../data/json.js';
import type { FrequencyCap, JourneyDefinition } from '../journey/schema.js';
import { TIMEOUT_BRANCH_ID } from '../journey/branch-ids.js';
import type { EpochMs } from '../time/epoch.js';
import type { BranchDecision } from './decision.js';
import { nextAttemptAt, type RetryPolicy } from './delivery-retry.js';
import type { DueItem, EntryCommit, EntryState, MessageRecord, SendReason } from './entry-state.js';
import { frequencyCapWindowStart, isFrequencyCapped } from './frequency-cap.js';
import type { MessageVisit } from './message-visit.js';
import { messageCounts, walkCounts, type StepCount } from './step-counts.js';
import { parseStepToken } from './token.js';
import { walkEntry, type NextItem, type WalkResult } from './walk.js';
import { renderUpdate, type RenderedRequest, type RenderedUpdate } from '../template/journey-templates.js';

/** A branch lock outlives the entry's next wait by this much, so the next step finds it. */
export const LOCK_MARGIN_MS = 7 * 24 * 60 * 60 * 1000;

/** One due item of a batch: the member and the step its batch is for. */
export interface DispatchItem extends DueItem {
  stepId: string;
}

export interface MemberInput {
  journey: JourneyDefinition;
  journeyId: string;
  version: number;
  item: DispatchItem;
  /** The user's state in the journey, as read after the item took the branch lock; null when there is none. */
  state: EntryState | null;
  /** The user's attributes now; null: the user was erased (nothing is done for them any more). */
  user: Readonly<Record<string, unknown>> | null;
  now: EpochMs;
  /** The item's own `user_update` step was applied (see the `update` decision): walk on past it. */
  updateApplied?: boolean;
}

/** What carrying an item out leaves to the stores: a commit, a next item, counters and the lock's lease. */
export interface Settlement {
  /** `retrying`: the item's message waits for its next attempt; `deferred`: quiet hours moved the send later. */
  result: 'done' | 'ended' | 'deferred' | 'retrying';
  /** The state to write (one conditional write); null: nothing changes. */
  commit: EntryCommit | null;
  /** The item to schedule once the commit landed. */
  next: NextItem | null;
  /** Counted whatever becomes of the commit (a decision that commits nothing). */
  counts: StepCount[];
  /** Counted only if the commit lands now: a retried try whose earlier commit landed counted them then. */
  commitCounts: StepCount[];
  /** How long from now the branch lock must live (re-armed before the commit); null: as it is. */
  lockTtlMs: number | null;
}

/** The message of a send, as the channel posts it (the contract's body, plus where to and its type). */
export interface MessageToSend {
  messageId: string;
  journeyId: string;
  version: number;
  stepId: string;
  branchId: string | null;
  userId: string;
  entryId: string;
  /** What a user may mute (by type); not part of the posted body. */
  messageType: string;
  method: RenderedRequest['method'];
  url: string;
  /** The step's own headers, rendered. */
  headers: Record<string, string>;
  payload: JsonObject;
  /** Signs each attempt (Journey-Signature) when set. */
  secret: string | null;
}

/** A send the item must make (or recall, or skip) before it can settle: see settleSend. */
export interface PendingSend {
  kind: 'send';
  message: MessageToSend;
  /** A new visit checks mutes and the frequency cap; a retried visit decided that at its first attempt. */
  checks: { messageType: string; frequencyCap: FrequencyCap | null; capWindowStart: EpochMs | null } | null;
  visit: Exclude<MessageVisit, { kind: 'ended' }>;
  lastBranch: { stepId: string; branchId: string } | null;
  input: MemberInput;
  walk: WalkResult;
  then: NextItem | null;
  counts: StepCount[];
  /** The templates could not be rendered: the message fails (`template_error`) without an attempt. */
  renderError: string | null;
}

/** A `user_update` the item must apply (once per visit: `key`) before deciding again with `updateApplied`. */
export interface PendingUpdate {
  kind: 'update';
  /** Names this visit of the step: the store applies a change of the same key once. */
  key: string;
  update: RenderedUpdate;
  input: MemberInput;
}

export type MemberDecision =
  /** `walk`: where the entry went on the way (null when the item found no active entry of its own). */
  | { kind: 'settled'; settlement: Settlement; walk: WalkResult | null }
  /** The journey cannot go on for this entry (a definition no rule admits): the entry ends, the batch goes on. */
  | { kind: 'fault'; error: Error; settlement: Settlement }
  | PendingSend
  | PendingUpdate;

/** What became of a send: the receiver's answer, recalled or fresh, or a skip. */
export type Delivery =
  | { status: 'sent' }
  | { status: 'failed'; reason: SendReason; error?: string | undefined }
  | { status: 'skipped'; reason: 'muted' | 'frequency_cap' }
  | { status: 'retry'; retryAfterMs?: number | undefined; error?: string | undefined };

const nothing = (result: Settlement['result']): Settlement => ({
  result,
  commit: null,
  next: null,
  counts: [],
  commitCounts: [],
  lockTtlMs: null,
});

/**
 * What one due item does to its entry: walk it from its step (core's walkEntry) and say what to commit, schedule
 * and count, and whether a message must be sent first. Pure: the dispatcher takes the lock and reads the state
 * before, and carries the settlement out after (`settleSend` once a send got its answer).
 */
export function decideMember(input: MemberInput): MemberDecision {
  const { journey, journeyId, version, item, state, now } = input;
  if (!state || state.entryId !== item.entryId || state.status !== 'active' || input.user === null)
    return { kind: 'settled', settlement: nothing('ended'), walk: null };
  const user = input.user;
  // The event that picked this item's path (claimed against the awaiting token this item expects); not for a timeout.
  const pathTaken = parseStepToken(item.ownToken).branchId;
  const actionEvent =
    pathTaken !== undefined && pathTaken !== TIMEOUT_BRANCH_ID && state.actionEvent?.token === item.expectedToken
      ? state.actionEvent
      : null;
  // What `event.*` reads: the event that moved the entry last (an action path's, even for the items after the one
  // it picked), else the trigger's; never an event claimed for the very wait this item times out of.
  const lastEvent = actionEvent ?? (state.actionEvent && state.actionEvent.token !== item.expectedToken ? state.actionEvent : null);
  const eventProperties = lastEvent?.properties ?? state.trigger?.properties;
  let walk: WalkResult;
  try {
    walk = walkEntry(
      journey,
      { stepId: item.stepId, expectedToken: item.expectedToken, ownToken: item.ownToken },
      {
        journeyId,
        version,
        userId: item.userId,
        entryId: item.entryId,
        user,
        event: eventProperties,
        now,
        messages: state.messages,
        updateApplied: input.updateApplied,
      },
    );
  } catch (error) {
    const base = commitBase(input, null);
    const commit: EntryCommit = { ...base, token: item.ownToken, stepId: null, status: 'exited', awaiting: null };
    return {
      kind: 'fault',
      error: error as Error,
      settlement: { ...nothing('done'), commit, commitCounts: [{ stepId: item.stepId, counter: 'exited' }] },
    };
  }

  const counts = walkCounts(journey, walk);
  const outcome = walk.outcome;
  const base = commitBase(input, walk);
  switch (outcome.kind) {
    case 'send':
      return decideSend(input, walk, counts);
    case 'update': {
      const step = journey.steps[outcome.stepId];
      if (step?.type !== 'user_update') throw new Error(`step "${outcome.stepId}" is no user_update step`);
      const rendered = renderUpdate(journey, outcome.stepId, step, { user, event: eventProperties });
      if (!rendered.ok) {
        const commit: EntryCommit = { ...base, token: item.ownToken, stepId: null, status: 'exited', awaiting: null };
        return {
          kind: 'fault',
          error: new Error(`user_update step "${outcome.stepId}": ${rendered.error}`),
          settlement: { ...nothing('done'), commit, commitCounts: [{ stepId: item.stepId, counter: 'exited' }] },
        };
      }
      return { kind: 'update', key: `${journeyId}:${item.entryId}:${item.ownToken}`, update: rendered.value, input };
    }
    case 'defer':
      return { kind: 'settled', walk, settlement: { ...nothing('deferred'), next: outcome.retry, counts } };
    case 'wait':
      return {
        kind: 'settled',
        walk,
        settlement: {
          ...nothing('done'),
          next: outcome.then,
          commitCounts: counts,
          commit: { ...base, token: outcome.then.ownToken, stepId: outcome.then.stepId, status: 'active', awaiting: null },
          lockTtlMs: Math.max(0, outcome.then.dueAt - now) + LOCK_MARGIN_MS,
        },
      };
    case 'await':
      return {
        kind: 'settled',
        walk,
        settlement: {
          ...nothing('done'),
          next: outcome.timeout,
          commitCounts: counts,
          commit: {
            ...base,
            token: item.ownToken,
            stepId: outcome.stepId,
            status: 'active',
            awaiting: { stepId: outcome.stepId, token: item.ownToken, deadline: outcome.deadline },
          },
          lockTtlMs: Math.max(0, outcome.deadline - now) + LOCK_MARGIN_MS,
        },
      };
    case 'exit':
      return {
        kind: 'settled',
        walk,
        settlement: {
          ...nothing('done'),
          commitCounts: [...counts, { stepId: outcome.stepId, counter: 'exited' }],
          commit: { ...base, token: item.ownToken, stepId: null, status: 'exited', awaiting: null },
        },
      };
    case 'end':
      return {
        kind: 'settled',
        walk,
        settlement: {
          ...nothing('done'),
          commitCounts: counts,
          commit: { ...base, token: item.ownToken, stepId: null, status: 'completed', awaiting: null },
        },
      };
  }
}

function decideSend(input: MemberInput, walk: WalkResult, counts: StepCount[]): MemberDecision {
  const { journey, journeyId, version, item, state, now } = input;
  if (walk.outcome.kind !== 'send' || !state) throw new Error('decideSend needs a walk that stops at a send');
  const { send, then } = walk.outcome;
  const stored = state.messages[send.stepId];
  const visit = send.visit;
  if (visit.kind === 'ended') {
    // An earlier try of this item ended the message and committed: move on as it did (its commit counted).
    return { kind: 'settled', walk, settlement: moveOn(input, then, undefined, counts, walk) };
  }
  if (visit.kind === 'retry' && stored?.nextAttemptAt != null && stored.nextAttemptAt > now) {
    // A retried try of an item whose wait was committed: the attempt is not due yet.
    return {
      kind: 'settled',
      walk,
      settlement: { ...nothing('retrying'), next: retryItem(item, send.stepId, stored.nextAttemptAt), counts },
    };
  }
  // A retry sends what the first attempt sent: the branch taken before the step is not walked again.
  const lastDecision: BranchDecision | { stepId: string; branchId: string } | undefined =
    visit.kind === 'retry' && stored?.branch ? stored.branch : walk.branches.at(-1);
  const lastBranch = lastDecision ? { stepId: lastDecision.stepId, branchId: lastDecision.branchId } : null;
  const cap = journey.settings.frequencyCap ?? null;
  return {
    kind: 'send',
    message: {
      messageId: send.messageId,
      journeyId,
      version,
      stepId: send.stepId,
      branchId: lastBranch?.branchId ?? null,
      userId: item.userId,
      entryId: item.entryId,
      messageType: send.messageType,
      method: send.method,
      url: send.url,
      headers: send.headers,
      payload: send.payload,
      secret: send.secret,
    },
    checks:
      visit.kind === 'new'
        ? { messageType: send.messageType, frequencyCap: cap, capWindowStart: cap ? frequencyCapWindowStart(cap, now) : null }
        : null,
    visit,
    lastBranch,
    input,
    walk,
    then,
    counts,
    renderError: send.renderError,
  };
}

/** Why the message cannot be sent at all, before any attempt: its templates did not render. */
export function undeliverable(pending: PendingSend): Delivery | null {
  return pending.renderError === null ? null : { status: 'failed', reason: 'template_error', error: pending.renderError };
}

/** Whether the user may not get a new visit's message: a muted type, or the frequency cap reached. */
export function skipReason(
  checks: NonNullable<PendingSend['checks']>,
  seen: { muted: boolean; sentAt: readonly EpochMs[] },
  now: EpochMs,
): 'muted' | 'frequency_cap' | null {
  if (seen.muted) return 'muted';
  if (checks.frequencyCap && isFrequencyCapped(seen.sentAt, checks.frequencyCap, now)) return 'frequency_cap';
  return null;
}

/**
 * A send's settlement once its delivery is known: the message's record (sent, failed, skipped, or retrying with its
 * next attempt scheduled as the same item) committed with the entry's next position, in one write.
 */
export function settleSend(pending: PendingSend, delivery: Delivery, policy: RetryPolicy): Settlement {
  const { input, visit, message, lastBranch, counts } = pending;
  const { item, state, now } = input;
  const visitFields = { token: item.ownToken, visit: visit.visit, branch: lastBranch };
  const firstOfVisit = visit.kind === 'new';
  if (delivery.status === 'skipped') {
    const record: MessageRecord = { ...blankRecord(), ...visitFields, status: 'skipped', reason: delivery.reason, completedAt: now };
    return moveOn(
      input,
      pending.then,
      { stepId: message.stepId, record },
      [...counts, ...messageCounts(message.stepId, { firstOfVisit, status: 'skipped' }, undefined)],
      pending.walk,
    );
  }
  // A message whose templates failed was never posted: no attempt to count.
  const posted = !(delivery.status === 'failed' && delivery.reason === 'template_error');
  const attempts = (visit.kind === 'retry' ? visit.attempts : 0) + (posted ? 1 : 0);
  const firstAttemptAt = visit.kind === 'retry' ? visit.firstAttemptAt : posted ? now : null;
  const lastError = delivery.status === 'sent' ? null : (delivery.error ?? null);
  const attempted = { ...blankRecord(), ...visitFields, attempts, firstAttemptAt, lastError };
  if (delivery.status === 'retry') {
    const nextAt = nextAttemptAt(policy, {
      messageId: message.messageId,
      attempts,
      firstAttemptAt: firstAttemptAt ?? now,
      now,
      retryAfterMs: delivery.retryAfterMs,
    });
    if (nextAt !== null) {
      // Waits durably: the record (attempts, window) is committed, and the same item is scheduled for the attempt.
      const { method, url, headers, payload } = message;
      const record: MessageRecord = { ...attempted, status: 'retrying', nextAttemptAt: nextAt, request: { method, url, headers, payload } };
      const commit: EntryCommit = {
        ...commitBase(input, pending.walk),
        key: `${item.ownToken}@${attempts}`,
        token: state!.token,
        stepId: message.stepId,
        status: 'active',
        awaiting: null,
        message: { stepId: message.stepId, record },
      };
      return {
        result: 'retrying',
        commit,
        next: retryItem(item, message.stepId, nextAt),
        counts: [],
        commitCounts: [...counts, ...messageCounts(message.stepId, { firstOfVisit, status: 'retrying' }, undefined)],
        lockTtlMs: Math.max(0, nextAt - now) + LOCK_MARGIN_MS,
      };
    }
  }
  const status = delivery.status === 'sent' ? 'sent' : 'failed';
  const reason: SendReason | null =
    delivery.status === 'failed' ? delivery.reason : delivery.status === 'retry' ? 'retries_exhausted' : null;
  const record: MessageRecord = { ...attempted, status, reason, completedAt: now };
  return moveOn(
    input,
    pending.then,
    { stepId: message.stepId, record },
    [...counts, ...messageCounts(message.stepId, { firstOfVisit, status }, lastBranch ?? undefined)],
    pending.walk,
  );
}

/** The entry goes on after its message step (or ends there), keeping the message's record when there is a new one. */
function moveOn(
  input: MemberInput,
  then: NextItem | null,
  message: EntryCommit['message'],
  commitCounts: StepCount[],
  walk: WalkResult,
): Settlement {
  const { item } = input;
  const base = commitBase(input, walk);
  const kept = message ? { message } : {};
  if (then) {
    return {
      ...nothing('done'),
      next: then,
      commitCounts,
      commit: { ...base, token: then.ownToken, stepId: then.stepId, status: 'active', awaiting: null, ...kept },
      lockTtlMs: LOCK_MARGIN_MS,
    };
  }
  return {
    ...nothing('done'),
    commitCounts,
    commit: { ...base, token: item.ownToken, stepId: null, status: 'completed', awaiting: null, ...kept },
  };
}

/** What every commit of the item carries: its key, the entry it lands on, and the steps and branches the walk took. */
function commitBase(input: MemberInput, walk: Pick<WalkResult, 'reached' | 'branches'> | null) {
  const { item, state, now, journeyId } = input;
  return {
    key: item.ownToken,
    journeyId,
    userId: item.userId,
    entryId: item.entryId,
    expectedToken: state!.token,
    now,
    path: walk ? pathOf(walk) : { steps: [], branches: [] },
  };
}

/** The steps the walk reached and the branches it took (`step:branch`): what a goal conversion is counted at. */
export function pathOf(walk: Pick<WalkResult, 'reached' | 'branches'>): { steps: string[]; branches: string[] } {
  return { steps: [...walk.reached], branches: walk.branches.map((branch) => `${branch.stepId}:${branch.branchId}`) };
}

function retryItem(item: DispatchItem, stepId: string, dueAt: EpochMs): NextItem {
  return { stepId, dueAt, expectedToken: item.expectedToken, ownToken: item.ownToken };
}

function blankRecord(): MessageRecord {
  return {
    status: 'sent',
    reason: null,
    attempts: 0,
    completedAt: null,
    token: null,
    visit: 1,
    firstAttemptAt: null,
    nextAttemptAt: null,
    lastError: null,
    branch: null,
    request: null,
  };
}
