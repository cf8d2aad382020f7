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
  /** The user's attributes now. */
  user: Readonly<Record<string, unknown>>;
  now: EpochMs;
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
  url: string;
  payload: JsonObject;
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
}

export type MemberDecision =
  | { kind: 'settled'; settlement: Settlement }
  /** The journey cannot go on for this entry (a definition no rule admits): the entry ends, the batch goes on. */
  | { kind: 'fault'; error: Error; settlement: Settlement }
  | PendingSend;

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
  if (!state || state.entryId !== item.entryId || state.status !== 'active') return { kind: 'settled', settlement: nothing('ended') };

  const base = { key: item.ownToken, journeyId, userId: item.userId, entryId: item.entryId, expectedToken: state.token, now };
  // The event that picked this item's path (claimed against the awaiting token this item expects); not for a timeout.
  const pathTaken = parseStepToken(item.ownToken).branchId;
  const actionEvent =
    pathTaken !== undefined && pathTaken !== TIMEOUT_BRANCH_ID && state.actionEvent?.token === item.expectedToken
      ? state.actionEvent
      : null;
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
        user: input.user,
        event: actionEvent?.properties ?? state.trigger?.properties,
        now,
        messages: state.messages,
      },
    );
  } catch (error) {
    const commit: EntryCommit = { ...base, token: item.ownToken, stepId: null, status: 'exited', awaiting: null };
    return {
      kind: 'fault',
      error: error as Error,
      settlement: { ...nothing('done'), commit, commitCounts: [{ stepId: item.stepId, counter: 'exited' }] },
    };
  }

  const counts = walkCounts(journey, walk, actionEvent ? 'event' : null);
  const outcome = walk.outcome;
  switch (outcome.kind) {
    case 'send':
      return decideSend(input, walk, counts);
    case 'defer':
      return { kind: 'settled', settlement: { ...nothing('deferred'), next: outcome.retry, counts } };
    case 'wait':
      return {
        kind: 'settled',
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
        settlement: {
          ...nothing('done'),
          commitCounts: [...counts, { stepId: outcome.stepId, counter: 'exited' }],
          commit: { ...base, token: item.ownToken, stepId: null, status: 'exited', awaiting: null },
        },
      };
    case 'end':
      return {
        kind: 'settled',
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
    return { kind: 'settled', settlement: moveOn(input, then, undefined, counts) };
  }
  if (visit.kind === 'retry' && stored?.nextAttemptAt != null && stored.nextAttemptAt > now) {
    // A retried try of an item whose wait was committed: the attempt is not due yet.
    return { kind: 'settled', settlement: { ...nothing('retrying'), next: retryItem(item, send.stepId, stored.nextAttemptAt), counts } };
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
      url: send.url,
      payload: send.payload,
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
  };
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
    return moveOn(input, pending.then, { stepId: message.stepId, record }, [
      ...counts,
      ...messageCounts(message.stepId, { firstOfVisit, status: 'skipped' }, undefined),
    ]);
  }
  const attempts = (visit.kind === 'retry' ? visit.attempts : 0) + 1;
  const firstAttemptAt = visit.kind === 'retry' ? visit.firstAttemptAt : now;
  const lastError = delivery.status === 'sent' ? null : (delivery.error ?? null);
  const attempted = { ...blankRecord(), ...visitFields, attempts, firstAttemptAt, lastError };
  if (delivery.status === 'retry') {
    const nextAt = nextAttemptAt(policy, {
      messageId: message.messageId,
      attempts,
      firstAttemptAt,
      now,
      retryAfterMs: delivery.retryAfterMs,
    });
    if (nextAt !== null) {
      // Waits durably: the record (attempts, window) is committed, and the same item is scheduled for the attempt.
      const record: MessageRecord = { ...attempted, status: 'retrying', nextAttemptAt: nextAt };
      const commit: EntryCommit = {
        key: `${item.ownToken}@${attempts}`,
        journeyId: input.journeyId,
        userId: item.userId,
        entryId: item.entryId,
        expectedToken: state!.token,
        token: state!.token,
        stepId: message.stepId,
        status: 'active',
        awaiting: null,
        message: { stepId: message.stepId, record },
        now,
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
  return moveOn(input, pending.then, { stepId: message.stepId, record }, [
    ...counts,
    ...messageCounts(message.stepId, { firstOfVisit, status }, lastBranch ?? undefined),
  ]);
}

/** The entry goes on after its message step (or ends there), keeping the message's record when there is a new one. */
function moveOn(input: MemberInput, then: NextItem | null, message: EntryCommit['message'], commitCounts: StepCount[]): Settlement {
  const { item, state, now, journeyId } = input;
  const base = { key: item.ownToken, journeyId, userId: item.userId, entryId: item.entryId, expectedToken: state!.token, now };
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
  };
}
