import type { Logger } from '@journey/config';
import {
  frequencyCapWindowStart,
  isFrequencyCapped,
  parseStepToken,
  TIMEOUT_BRANCH_ID,
  walkEntry,
  type JourneyDefinition,
  type NextItem,
  type WalkResult,
} from '@journey/core';
import type { JourneyStatesRepository, MessageOutcome, StepCommit, UsersRepository } from '@journey/mongo';
import type { ActivityCounts, BatchRef, BranchLock, DueMember, DueSchedule, OpsActivity, StatIncrement, Stats, Subscriptions } from '@journey/redis';
import type { Deliveries, OutgoingMessage } from './deliveries.js';
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
  /** The operators' per-second counters (GET /v1/ops/queues); optional so unit harnesses may leave it out. */
  activity?: Pick<OpsActivity, 'record'>;
  /** Members of a batch handled at once (default 50): sends to slow hosts overlap, within the channel's per-host limit. */
  memberConcurrency?: number;
  /** How often members of a paused journey look again whether it was resumed (default 5 s). */
  pausedRecheckMs?: number;
}

/** The lock outlives the entry's next wait by this much, so the next step finds it (docs/architecture.md). */
const LOCK_MARGIN_MS = 7 * 24 * 60 * 60 * 1000;

export type MemberResult = 'done' | 'lost' | 'ended' | 'deferred';

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
  increments: StatIncrement[];
  /** Counted only if the commit lands: the message it keeps (a racing try that committed first counted its own). */
  messageIncrements: StatIncrement[];
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
    byResult: { done: 0, lost: 0, ended: 0, deferred: 0 },
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
    await Promise.all(members.map((member) => deps.states.exit(journeyId, member.userId, member.entryId, new Date(deps.now()))));
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
async function recordActivity(deps: DispatchDeps, dispatched: number, increments: readonly StatIncrement[]): Promise<void> {
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
  return landed && plan.messageIncrements.length > 0 ? { ...plan, increments: [...plan.increments, ...plan.messageIncrements] } : plan;
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
  const idle: MemberPlan = { member, result: 'lost', next: null, commit: null, increments: [], messageIncrements: [] };

  const lock = await deps.branchLock.take(target, { expectedToken: member.expectedToken, ownToken: member.ownToken }, LOCK_MARGIN_MS);
  if (lock.status === 'lost') return idle;

  const [state, user] = await Promise.all([loaders.state.load(member.userId), loaders.user.load(member.userId)]);
  if (!state || state.entryId !== member.entryId || state.status !== 'active') return { ...idle, result: 'ended' };

  const now = deps.now();
  // The event that picked this item's path (claimed against the awaiting token this item expects); not for a timeout.
  const pathTaken = parseStepToken(member.ownToken).branchId;
  const actionEvent =
    pathTaken !== undefined && pathTaken !== TIMEOUT_BRANCH_ID && state.actionEvent?.token === member.expectedToken ? state.actionEvent : null;
  const walk: WalkResult = walkEntry(
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
    },
  );

  const increments: StatIncrement[] = [];
  if (member.expectedToken === '') increments.push({ stepId, counter: 'entered' });
  for (const branch of walk.branches) {
    increments.push({ stepId: branch.stepId, branchId: branch.branchId, counter: 'entered' });
    if (actionEvent && branch.stepId === stepId) {
      increments.push({ stepId: branch.stepId, branchId: branch.branchId, counter: 'converted' });
    }
  }
  const lastDecision = walk.branches.at(-1);
  const lastBranch = lastDecision?.branchId ?? null;
  const base = { journeyId, userId: member.userId, entryId: member.entryId, expectedToken: state.token, now: new Date(now) };
  const outcome = walk.outcome;

  switch (outcome.kind) {
    case 'send': {
      const { send } = outcome;
      const message: OutgoingMessage = {
        messageId: send.messageId,
        journeyId,
        version,
        stepId: send.stepId,
        branchId: lastBranch,
        userId: member.userId,
        entryId: member.entryId,
        messageType: send.messageType,
        url: send.url,
        payload: send.payload,
      };
      // An earlier try of this step that committed, or an earlier visit of it in this entry, ended the message:
      // honoured, not decided again (it must not be sent twice, nor counted twice).
      let kept: Pick<StepCommit, 'message'> = {};
      let messageIncrements: StatIncrement[] = [];
      if (state.messages[send.stepId] === undefined) {
        const skip = await skipReason(deps, definition, message, now);
        const messageOutcome = skip ? deps.deliveries.skip(message, skip) : await deps.deliveries.send(message);
        kept = { message: { stepId: send.stepId, outcome: messageOutcome } };
        messageIncrements = sendIncrements(send.stepId, messageOutcome, lastDecision);
      }
      if (outcome.then) {
        await deps.branchLock.extend(target, member.ownToken, LOCK_MARGIN_MS);
        const commit: StepCommit = { ...base, token: outcome.then.ownToken, stepId: outcome.then.stepId, status: 'active', awaiting: null, ...kept };
        return { member, result: 'done', next: outcome.then, increments, messageIncrements, commit };
      }
      const commit: StepCommit = { ...base, token: member.ownToken, stepId: null, status: 'completed', awaiting: null, ...kept };
      return { member, result: 'done', next: null, increments, messageIncrements, commit };
    }
    case 'defer':
      return { ...idle, result: 'deferred', next: outcome.retry, increments };
    case 'wait':
      await deps.branchLock.extend(target, member.ownToken, Math.max(0, outcome.then.dueAt - now) + LOCK_MARGIN_MS);
      return { ...idle, result: 'done', next: outcome.then, increments, commit: { ...base, token: outcome.then.ownToken, stepId: outcome.then.stepId, status: 'active', awaiting: null } };
    case 'await':
      await deps.branchLock.extend(target, member.ownToken, Math.max(0, outcome.deadline - now) + LOCK_MARGIN_MS);
      return {
        ...idle,
        result: 'done',
        next: outcome.timeout,
        increments,
        commit: {
          ...base,
          token: member.ownToken,
          stepId: outcome.stepId,
          status: 'active',
          awaiting: { stepId: outcome.stepId, token: member.ownToken, deadline: new Date(outcome.deadline) },
        },
      };
    case 'exit':
      increments.push({ stepId: outcome.stepId, counter: 'exited' });
      return { ...idle, result: 'done', increments, commit: { ...base, token: member.ownToken, stepId: null, status: 'exited', awaiting: null } };
    case 'end':
      return { ...idle, result: 'done', increments, commit: { ...base, token: member.ownToken, stepId: null, status: 'completed', awaiting: null } };
  }
}

/**
 * What a message's outcome counts: the message step counts every send (and skip, and failure); the branch this walk
 * took on the way counts a send too, at the step that took it (`branches` are the branches taken AT a step: the
 * message step takes none).
 */
function sendIncrements(stepId: string, outcome: MessageOutcome, lastDecision: { stepId: string; branchId: string } | undefined): StatIncrement[] {
  if (outcome.status !== 'sent') return [{ stepId, counter: outcome.status }];
  const increments: StatIncrement[] = [{ stepId, counter: 'sent' }];
  if (lastDecision) increments.push({ stepId: lastDecision.stepId, branchId: lastDecision.branchId, counter: 'sent' });
  return increments;
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
