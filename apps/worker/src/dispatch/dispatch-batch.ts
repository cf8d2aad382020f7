import type { Logger } from '@journey/config';
import {
  DEFAULT_RETRY_POLICY,
  frequencyCapWindowStart,
  isFrequencyCapped,
  messageCounts,
  nextAttemptAt,
  parseStepToken,
  TIMEOUT_BRANCH_ID,
  walkCounts,
  walkEntry,
  type JourneyDefinition,
  type MessageVisitRecord,
  type NextItem,
  type RetryPolicy,
  type SendDecision,
  type StepCount,
  type WalkResult,
} from '@journey/core';
import { SendReasonSchema, type JourneyState, type JourneyStatesRepository, type MessageOutcomeInput, type SendReason, type StepCommit, type UsersRepository } from '@journey/mongo';
import type { ActivityCounts, BatchRef, BranchLock, DueMember, DueSchedule, OpsActivity, OpsFailure, Stats, Subscriptions, TakeLockResult } from '@journey/redis';
import type { AttemptOutcome, Deliveries, OutgoingMessage } from './deliveries.js';
import type { JourneyCatalog } from './journey-catalog.js';
import { createBatchLoaders, type BatchLoaders } from './batch-loaders.js';

export interface DispatchDeps {
  dueSchedule: DueSchedule;
  branchLock: BranchLock;
  stats: Stats;
  subscriptions: Subscriptions;
  users: Pick<UsersRepository, 'getMany'>;
  states: Pick<JourneyStatesRepository, 'listForJourney' | 'exit' | 'commitEach'>;
  catalog: JourneyCatalog;
  deliveries: Deliveries;
  logger: Logger;
  now: () => number;
  /** How a message the receiver did not take is tried again (default: 24 h with backoff from 1 s to 1 h). */
  retryPolicy?: RetryPolicy;
  /** The operators' per-second counters (GET /v1/ops/queues); optional so unit harnesses may leave it out. */
  activity?: Pick<OpsActivity, 'record'>;
  /** Told of a message that failed for good, and of an entry a journey fault ended (the operators' recent failures). */
  onFailure?: (failure: OpsFailure) => void;
  /** Members of a batch handled at once (default 50): sends to slow hosts overlap, within the channel's per-host limit. */
  memberConcurrency?: number;
  /** How often members of a paused journey look again whether it was resumed (default 5 s). */
  pausedRecheckMs?: number;
}

/** The lock outlives the entry's next wait by this much, so the next step finds it (docs/architecture.md). */
const LOCK_MARGIN_MS = 7 * 24 * 60 * 60 * 1000;

/** `retrying`: the member's message waits for its next attempt, scheduled with the same tokens. */
export type MemberResult = 'done' | 'lost' | 'ended' | 'deferred' | 'retrying';

export interface BatchResult {
  members: number;
  byResult: Record<MemberResult, number>;
  invalidMembers: number;
  journeyStatus: 'active' | 'paused' | 'gone';
}

/** What one member's walk leaves to do after its side effects: the next item to schedule and the state to commit. */
interface MemberPlan {
  member: DueMember;
  result: MemberResult;
  next: NextItem | null;
  commit: StepCommit | null;
  /** Counted whatever happens to the commit (a walk that commits nothing: quiet hours). */
  increments: StepCount[];
  /** Counted only if the commit lands now: a retried try whose earlier commit landed counted them then. */
  commitIncrements: StepCount[];
}

/**
 * Dispatches one carved batch: per member, take the branch lock, walk the entry to its next stop, send if it
 * must, and commit the member's new state with the message it ended with (one write per member, coalesced into
 * bulk writes); then schedule the batch's next items. Safe to run again after a crash at any point: the lock turns
 * a finished member into `lost` (or a `resume` that finds its message in the state), scheduling is a set add, and
 * commits are conditional.
 */
export async function dispatchBatch(deps: DispatchDeps, batch: BatchRef): Promise<BatchResult> {
  const { journeyId, version } = batch.branch;
  const { members, invalid } = await deps.dueSchedule.batchMembers(batch);
  if (invalid.length > 0) deps.logger.error({ batch, invalid }, 'batch holds members that do not decode; dropped');
  const result: BatchResult = {
    members: members.length,
    byResult: { done: 0, lost: 0, ended: 0, deferred: 0, retrying: 0 },
    invalidMembers: invalid.length,
    journeyStatus: 'active',
  };

  const [status, definition] = await Promise.all([deps.catalog.status(journeyId), deps.catalog.definition(journeyId, version)]);
  if (status === 'paused') {
    // Nothing is sent while paused: the members look again later, unchanged (same tokens), until resumed.
    const later = Math.floor((deps.now() + (deps.pausedRecheckMs ?? 5_000)) / 1000);
    await deps.dueSchedule.schedule(batch.branch, later, members);
    await deps.dueSchedule.finish(batch);
    result.journeyStatus = 'paused';
    result.byResult.deferred = members.length;
    return result;
  }
  if (status === null || status === 'archived' || status === 'draft' || definition === null) {
    // Archiving ends every entry: whatever was scheduled ends here instead of firing.
    const exited = await Promise.all(members.map((member) => deps.states.exit(journeyId, member.userId, member.entryId, new Date(deps.now()))));
    const count = exited.filter(Boolean).length;
    if (count > 0) await deps.stats.increment(journeyId, version, [{ stepId: batch.branch.stepId, counter: 'exited', by: count }]);
    await deps.dueSchedule.finish(batch);
    result.journeyStatus = 'gone';
    result.byResult.ended = members.length;
    return result;
  }

  const plans: MemberPlan[] = [];
  const loaders = createBatchLoaders(deps, journeyId);
  const concurrency = deps.memberConcurrency ?? 50;
  for (let start = 0; start < members.length; start += concurrency) {
    const slice = members.slice(start, start + concurrency);
    plans.push(...(await Promise.all(slice.map((member) => dispatchMember(deps, batch, definition, member, loaders)))));
  }

  // Every member's commit has landed (each member waits for its own): only now are next items scheduled. A next item
  // must never run before its predecessor's commit landed. It would read the older state, and its own commit
  // (conditional on the token it read) would then miss: a last step's `completed` or an `await`'s wait lost, while
  // its message went out. A crash before this leaves the batch unfinished; its retry resumes each member (the lock
  // still holds its token), commits the same state again and schedules then.
  await Promise.all([scheduleNextItems(deps, batch, plans), releaseEndedLocks(deps, batch, plans)]);
  const increments = plans.flatMap((plan) => plan.increments);
  if (increments.length > 0) await deps.stats.increment(journeyId, version, increments);
  await deps.dueSchedule.finish(batch);
  for (const plan of plans) result.byResult[plan.result]++;
  await recordActivity(deps, members.length, increments);
  return result;
}

/** Best effort: the operators' rates must never fail a batch whose users were already moved on. */
async function recordActivity(deps: DispatchDeps, dispatched: number, increments: readonly StepCount[]): Promise<void> {
  if (!deps.activity) return;
  const counts: ActivityCounts = { dispatched, sent: 0, failed: 0, skipped: 0 };
  // Branch-level increments repeat their step's send: only step-level ones count here.
  for (const { counter, branchId, by = 1 } of increments) {
    if (branchId === undefined && (counter === 'sent' || counter === 'failed' || counter === 'skipped')) counts[counter] += by;
  }
  await deps.activity.record(counts, deps.now()).catch((err: unknown) => deps.logger.warn({ err }, 'could not record dispatch activity'));
}

/**
 * Entries that ended here (their end state committed just now) need their lock no more: a late duplicate of a step
 * finds the key gone, or, for a first step, the ended state. Releasing keeps Redis at the locks of live entries,
 * instead of every entry of the last LOCK_MARGIN_MS.
 */
async function releaseEndedLocks(deps: DispatchDeps, batch: BatchRef, plans: MemberPlan[]): Promise<void> {
  const { journeyId } = batch.branch;
  await Promise.all(
    plans
      .filter((plan) => plan.result === 'ended' || (plan.commit !== null && plan.commit.status !== 'active'))
      .map(({ member }) => deps.branchLock.release({ journeyId, userId: member.userId, entryId: member.entryId }, member.ownToken)),
  );
}

async function scheduleNextItems(deps: DispatchDeps, batch: BatchRef, plans: MemberPlan[]): Promise<void> {
  // One call per (step, second): a batch moving on together is one script per shard, not one per user.
  const groups = new Map<string, { stepId: string; second: number; members: DueMember[] }>();
  for (const plan of plans) {
    if (!plan.next) continue;
    const second = Math.floor(plan.next.dueAt / 1000);
    const key = `${plan.next.stepId}@${second}`;
    const member: DueMember = {
      userId: plan.member.userId,
      entryId: plan.member.entryId,
      expectedToken: plan.next.expectedToken,
      ownToken: plan.next.ownToken,
    };
    const group = groups.get(key) ?? { stepId: plan.next.stepId, second, members: [] };
    group.members.push(member);
    groups.set(key, group);
  }
  await Promise.all(
    [...groups.values()].map((group) => deps.dueSchedule.schedule({ ...batch.branch, stepId: group.stepId }, group.second, group.members)),
  );
}

async function dispatchMember(
  deps: DispatchDeps,
  batch: BatchRef,
  definition: JourneyDefinition,
  member: DueMember,
  loaders: BatchLoaders,
): Promise<MemberPlan> {
  const plan = await walkMember(deps, batch, definition, member, loaders);
  if (!plan.commit) return plan;
  const landed = await loaders.commit.load(plan.commit);
  return landed && plan.commitIncrements.length > 0 ? { ...plan, increments: [...plan.increments, ...plan.commitIncrements] } : plan;
}

/** What a walking member knows: the batch's branch, its lock and state, and the commit fields every outcome shares. */
interface Walking {
  batch: BatchRef;
  member: DueMember;
  lock: TakeLockResult;
  state: JourneyState;
  now: number;
  base: Pick<StepCommit, 'key' | 'journeyId' | 'userId' | 'entryId' | 'expectedToken' | 'now'>;
}

/** Takes the member's lock, walks its entry and sends what it must; what is left to commit and schedule is the plan. */
async function walkMember(
  deps: DispatchDeps,
  batch: BatchRef,
  definition: JourneyDefinition,
  member: DueMember,
  loaders: BatchLoaders,
): Promise<MemberPlan> {
  const { journeyId, version, stepId } = batch.branch;
  const target = { journeyId, userId: member.userId, entryId: member.entryId };
  const idle: MemberPlan = { member, result: 'lost', next: null, commit: null, increments: [], commitIncrements: [] };

  const lock = await deps.branchLock.take(target, { expectedToken: member.expectedToken, ownToken: member.ownToken }, LOCK_MARGIN_MS);
  if (lock.status === 'lost') return idle;

  const [state, user] = await Promise.all([loaders.state.load(member.userId), loaders.user.load(member.userId)]);
  if (!state || state.entryId !== member.entryId || state.status !== 'active') return { ...idle, result: 'ended' };

  const now = deps.now();
  const base = { key: member.ownToken, journeyId, userId: member.userId, entryId: member.entryId, expectedToken: state.token, now: new Date(now) };
  // The event that picked this item's path (claimed against the awaiting token this item expects); not for a timeout.
  const pathTaken = parseStepToken(member.ownToken).branchId;
  const actionEvent =
    pathTaken !== undefined && pathTaken !== TIMEOUT_BRANCH_ID && state.actionEvent?.token === member.expectedToken ? state.actionEvent : null;
  let walk: WalkResult;
  try {
    walk = walkEntry(
      definition,
      { stepId, expectedToken: member.expectedToken, ownToken: member.ownToken },
      {
        journeyId,
        version,
        userId: member.userId,
        entryId: member.entryId,
        user: user?.attributes ?? {},
        event: actionEvent?.properties ?? state.trigger?.properties,
        now,
        messages: visitRecords(state),
      },
    );
  } catch (error) {
    // The journey cannot go on for this entry (a definition the rules should have refused): the entry ends, and
    // the rest of the batch and every other journey go on.
    deps.logger.error({ err: error, journeyId, version, stepId, userId: member.userId }, 'journey fault: the entry ends');
    deps.onFailure?.({ at: now, source: 'dispatch', reason: `journey fault: ${(error as Error).message}`, journeyId, stepId, userId: member.userId });
    const commit: StepCommit = { ...base, token: member.ownToken, stepId: null, status: 'exited', awaiting: null };
    return { ...idle, result: 'done', commit, commitIncrements: [{ stepId, counter: 'exited' }] };
  }

  const counts = walkCounts(definition, walk, actionEvent ? 'event' : null);
  const walking: Walking = { batch, member, lock, state, now, base };
  const outcome = walk.outcome;
  switch (outcome.kind) {
    case 'send':
      return planSend(deps, definition, walking, walk, outcome.send, outcome.then, counts);
    case 'defer':
      return { ...idle, result: 'deferred', next: outcome.retry, increments: counts };
    case 'wait':
      await deps.branchLock.extend(target, member.ownToken, Math.max(0, outcome.then.dueAt - now) + LOCK_MARGIN_MS);
      return {
        ...idle,
        result: 'done',
        next: outcome.then,
        commitIncrements: counts,
        commit: { ...base, token: outcome.then.ownToken, stepId: outcome.then.stepId, status: 'active', awaiting: null },
      };
    case 'await':
      await deps.branchLock.extend(target, member.ownToken, Math.max(0, outcome.deadline - now) + LOCK_MARGIN_MS);
      return {
        ...idle,
        result: 'done',
        next: outcome.timeout,
        commitIncrements: counts,
        commit: {
          ...base,
          token: member.ownToken,
          stepId: outcome.stepId,
          status: 'active',
          awaiting: { stepId: outcome.stepId, token: member.ownToken, deadline: new Date(outcome.deadline) },
        },
      };
    case 'exit':
      return {
        ...idle,
        result: 'done',
        commitIncrements: [...counts, { stepId: outcome.stepId, counter: 'exited' }],
        commit: { ...base, token: member.ownToken, stepId: null, status: 'exited', awaiting: null },
      };
    case 'end':
      return { ...idle, result: 'done', commitIncrements: counts, commit: { ...base, token: member.ownToken, stepId: null, status: 'completed', awaiting: null } };
  }
}

/** The entry's message records as core reads them (which visit, how far its message got). */
function visitRecords(state: JourneyState): Record<string, MessageVisitRecord> {
  const records: Record<string, MessageVisitRecord> = {};
  for (const [stepId, message] of Object.entries(state.messages)) {
    records[stepId] = { status: message.status, token: message.token, visit: message.visit, attempts: message.attempts, firstAttemptAt: message.firstAttemptAt?.getTime() ?? null };
  }
  return records;
}

/**
 * A message step: this visit's message is sent (or recalled from an earlier try, skipped, refused, or scheduled for
 * another attempt), and its record is committed with the entry's next position in one write.
 */
async function planSend(
  deps: DispatchDeps,
  definition: JourneyDefinition,
  walking: Walking,
  walk: WalkResult,
  send: SendDecision,
  then: NextItem | null,
  counts: StepCount[],
): Promise<MemberPlan> {
  const { batch, member, state, now, base } = walking;
  const { journeyId, version } = batch.branch;
  const target = { journeyId, userId: member.userId, entryId: member.entryId };
  const visit = send.visit;
  const stored = state.messages[send.stepId];
  // A retry sends what the first attempt sent: the branch taken before the step is not walked again.
  const lastDecision = visit.kind === 'retry' && stored?.branch ? stored.branch : walk.branches.at(-1);
  const message: OutgoingMessage = {
    messageId: send.messageId,
    journeyId,
    version,
    stepId: send.stepId,
    branchId: lastDecision?.branchId ?? null,
    userId: member.userId,
    entryId: member.entryId,
    messageType: send.messageType,
    url: send.url,
    payload: send.payload,
  };
  const retryItem = (dueAt: number): NextItem => ({ stepId: send.stepId, dueAt, expectedToken: member.expectedToken, ownToken: member.ownToken });

  let record: MessageOutcomeInput | undefined;
  const commitIncrements = [...counts];
  if (visit.kind !== 'ended') {
    if (visit.kind === 'retry' && stored?.nextAttemptAt && stored.nextAttemptAt.getTime() > now) {
      // A retried try of an item whose wait was committed: the attempt is not due yet.
      return { member, result: 'retrying', next: retryItem(stored.nextAttemptAt.getTime()), commit: null, increments: counts, commitIncrements: [] };
    }
    const attemptsBefore = visit.kind === 'retry' ? visit.attempts : 0;
    const firstAttemptAt = visit.kind === 'retry' ? visit.firstAttemptAt : now;
    const result = await deliver(deps, definition, walking, message, visit.kind === 'new');
    const visitFields = { token: member.ownToken, visit: visit.visit, branch: lastDecision ? { stepId: lastDecision.stepId, branchId: lastDecision.branchId } : null };
    if (result.status === 'skipped') {
      record = { status: 'skipped', reason: result.reason, attempts: 0, completedAt: new Date(now), ...visitFields };
    } else {
      const attempts = attemptsBefore + 1;
      const lastError = 'error' in result ? (result.error ?? null) : null;
      let status: 'sent' | 'failed' | 'retrying' = result.status === 'retry' ? 'retrying' : result.status;
      let reason: SendReason | null = result.status === 'failed' ? result.reason : null;
      let nextAt: number | null = null;
      if (result.status === 'retry') {
        nextAt = nextAttemptAt(deps.retryPolicy ?? DEFAULT_RETRY_POLICY, { messageId: message.messageId, attempts, firstAttemptAt, now, retryAfterMs: result.retryAfterMs });
        if (nextAt === null) {
          status = 'failed';
          reason = 'retries_exhausted';
        }
      }
      record = {
        status,
        reason,
        attempts,
        completedAt: status === 'retrying' ? null : new Date(now),
        firstAttemptAt: new Date(firstAttemptAt),
        nextAttemptAt: nextAt === null ? null : new Date(nextAt),
        lastError,
        ...visitFields,
      };
      if (status === 'failed') {
        deps.onFailure?.({ at: now, source: 'send', reason: `${reason} after ${attempts} attempt(s)${lastError ? `: ${lastError}` : ''}`, journeyId, stepId: send.stepId, userId: member.userId });
      }
      if (nextAt !== null) {
        // Waits durably: the record (attempts, window) is committed, and the same item is scheduled for the attempt.
        await deps.branchLock.extend(target, member.ownToken, Math.max(0, nextAt - now) + LOCK_MARGIN_MS);
        const commit: StepCommit = {
          ...base,
          key: `${member.ownToken}@${attempts}`,
          token: state.token,
          stepId: send.stepId,
          status: 'active',
          awaiting: null,
          message: { stepId: send.stepId, outcome: record },
        };
        const firstOfVisit = visit.kind === 'new';
        return { member, result: 'retrying', next: retryItem(nextAt), commit, increments: [], commitIncrements: [...counts, ...messageCounts(send.stepId, { firstOfVisit, status: 'retrying' }, undefined)] };
      }
    }
    commitIncrements.push(...messageCounts(send.stepId, { firstOfVisit: visit.kind === 'new', status: record.status as 'sent' | 'failed' | 'skipped' }, lastDecision));
  }
  const kept = record ? { message: { stepId: send.stepId, outcome: record } } : {};
  if (then) {
    await deps.branchLock.extend(target, member.ownToken, LOCK_MARGIN_MS);
    const commit: StepCommit = { ...base, token: then.ownToken, stepId: then.stepId, status: 'active', awaiting: null, ...kept };
    return { member, result: 'done', next: then, commit, increments: [], commitIncrements };
  }
  const commit: StepCommit = { ...base, token: member.ownToken, stepId: null, status: 'completed', awaiting: null, ...kept };
  return { member, result: 'done', next: null, commit, increments: [], commitIncrements };
}

type Delivery = { status: 'skipped'; reason: 'muted' | 'frequency_cap' } | (AttemptOutcome extends infer A ? (A extends unknown ? Omit<A, 'attempt'> & { error?: string } : never) : never);

/**
 * One attempt of the message, unless an earlier try of this item got the receiver's answer already (the lock was
 * ours before: a retried batch, or a crash after the answer), or the user may not get it (a new visit only: a mute
 * or the frequency cap, checked after the recall so a cap never counts this very message against itself).
 */
async function deliver(deps: DispatchDeps, definition: JourneyDefinition, walking: Walking, message: OutgoingMessage, newVisit: boolean): Promise<Delivery> {
  if (walking.lock.status === 'resume') {
    const recalled = await deps.deliveries.recall(message.userId, message.messageId);
    if (recalled?.status === 'sent') return { status: 'sent' };
    if (recalled?.status === 'refused') {
      const reason = SendReasonSchema.safeParse(recalled.reason);
      return { status: 'failed', reason: reason.success ? reason.data : 'http_4xx' };
    }
  }
  if (newVisit) {
    const skip = await skipReason(deps, definition, message, walking.now);
    if (skip) return { status: 'skipped', reason: skip };
  }
  const { attempt, ...outcome } = await deps.deliveries.attempt(message);
  const seen = [attempt.status === undefined ? undefined : `HTTP ${attempt.status}`, attempt.error].filter(Boolean).join(': ');
  return seen === '' ? outcome : { ...outcome, error: seen };
}

/** Muted message types and the frequency cap skip a send; the journey continues either way. */
async function skipReason(deps: DispatchDeps, definition: JourneyDefinition, message: OutgoingMessage, now: number): Promise<'muted' | 'frequency_cap' | null> {
  if (await deps.subscriptions.isMuted(message.userId, message.messageType)) return 'muted';
  const cap = definition.settings.frequencyCap;
  if (cap) {
    const sent = await deps.deliveries.sentSince(message.userId, frequencyCapWindowStart(cap, now));
    if (isFrequencyCapped(sent, cap, now)) return 'frequency_cap';
  }
  return null;
}
