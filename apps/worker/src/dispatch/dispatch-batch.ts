import { randomBytes } from 'node:crypto';
import type { Logger } from '@journey/config';
import {
  decideMember,
  groupBy,
  LOCK_MARGIN_MS,
  settleSend,
  skipReason,
  undeliverable,
  type Delivery,
  type JourneyDefinition,
  type NextItem,
  type PendingSend,
  type RetryPolicy,
  type Settlement,
  type StepCount,
} from '@journey/core';
import { SendReasonSchema, toEntryState, type JourneyStatesRepository, type StepCommit, type UsersRepository } from '@journey/mongo';
import {
  LockNotHeldError,
  type ActivityCounts,
  type BatchRef,
  type BranchLock,
  type DueMember,
  type DueSchedule,
  type OpsActivity,
  type OpsFailure,
  type Stats,
  type TakeLockResult,
} from '@journey/redis';
import type { Deliveries } from './deliveries.js';
import type { JourneyCatalog } from './journey-catalog.js';
import { createBatchLoaders, type BatchLoaders } from './batch-loaders.js';

export interface DispatchDeps {
  dueSchedule: DueSchedule;
  branchLock: BranchLock;
  stats: Stats;
  users: Pick<UsersRepository, 'getMany' | 'applyUpdate'>;
  states: Pick<JourneyStatesRepository, 'listForJourney' | 'exit' | 'commitEach'>;
  catalog: JourneyCatalog;
  deliveries: Deliveries;
  logger: Logger;
  now: () => number;
  /** How a message the receiver did not take is tried again (the WEBHOOK_RETRY_* settings). */
  retryPolicy: RetryPolicy;
  /** The operators' per-second counters (GET /v1/ops/queues); optional so unit harnesses may leave it out. */
  activity?: Pick<OpsActivity, 'record'>;
  /** Told of a message that failed for good, and of an entry a journey fault ended (the operators' recent failures). */
  onFailure?: (failure: OpsFailure) => void;
  /** Members of a batch handled at once (default 50): sends to slow hosts overlap, within the channel's per-host limit. */
  memberConcurrency?: number;
  /** How often members of a paused journey look again whether it was resumed (default 5 s). */
  pausedRecheckMs?: number;
  /**
   * How long a try holds an item against other tries of it (default 30 s): longer than it takes to read, send and
   * note the send. Another try of the item (a duplicate, a batch run twice) waits it out; after a crash, the item's
   * retry waits at most this long.
   */
  sendLeaseMs?: number;
}

const DEFAULT_SEND_LEASE_MS = 30_000;

/** `retrying`: the member's message waits for its next attempt, scheduled with the same tokens. */
export type MemberResult = 'done' | 'lost' | 'ended' | 'deferred' | 'retrying';

export interface BatchResult {
  members: number;
  byResult: Record<MemberResult, number>;
  invalidMembers: number;
  journeyStatus: 'active' | 'paused' | 'gone';
}

/** What one member leaves to do after its side effects: the next item to schedule, the state to commit, the counts. */
interface MemberPlan {
  member: DueMember;
  result: MemberResult;
  next: NextItem | null;
  commit: StepCommit | null;
  /** Counted whatever happens to the commit (a decision that commits nothing: quiet hours). */
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
    const exited = await Promise.all(
      members.map((member) => deps.states.exit(journeyId, member.userId, member.entryId, new Date(deps.now()))),
    );
    const count = exited.filter(Boolean).length;
    if (count > 0)
      await deps.stats.increment(journeyId, version, [{ stepId: batch.branch.stepId, counter: 'exited', by: count }], deps.now());
    await deps.dueSchedule.finish(batch);
    result.journeyStatus = 'gone';
    result.byResult.ended = members.length;
    return result;
  }

  const plans: MemberPlan[] = [];
  const leases: Leases = { tryId: randomBytes(9).toString('base64url'), ms: deps.sendLeaseMs ?? DEFAULT_SEND_LEASE_MS, held: new Set() };
  const loaders = createBatchLoaders(deps, journeyId, { tryId: leases.tryId, ms: leases.ms, lockTtlMs: LOCK_MARGIN_MS });
  const concurrency = deps.memberConcurrency ?? 50;
  for (let start = 0; start < members.length; start += concurrency) {
    const slice = members.slice(start, start + concurrency);
    const settled = await Promise.allSettled(slice.map((member) => dispatchMember(deps, batch, definition, member, loaders, leases)));
    const failure = settled.find((each): each is PromiseRejectedResult => each.status === 'rejected');
    if (failure) {
      // Every send of the slice has its answer (allSettled): the retry of this batch may take the members over at
      // once instead of waiting out this try's leases.
      await endLeases(deps, batch, leases);
      throw failure.reason;
    }
    for (const each of settled) if (each.status === 'fulfilled') plans.push(each.value);
  }

  // Every member's commit has landed (each member waits for its own): only now are next items scheduled. A next item
  // must never run before its predecessor's commit landed. It would read the older state, and its own commit
  // (conditional on the token it read) would then miss: a last step's `completed` or an `await`'s wait lost, while
  // its message went out. A crash before this leaves the batch unfinished; its retry resumes each member (the lock
  // still holds its token), commits the same state again and schedules then.
  await Promise.all([scheduleNextItems(deps, batch, plans), releaseEndedLocks(deps, batch, plans)]);
  const increments = plans.flatMap((plan) => plan.increments);
  if (increments.length > 0) await deps.stats.increment(journeyId, version, increments, deps.now());
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
  const ended = plans.filter((plan) => plan.result === 'ended' || (plan.commit !== null && plan.commit.status !== 'active'));
  if (ended.length === 0) return;
  await deps.branchLock.settleMany(
    ended.map(({ member }) => ({
      target: { journeyId, userId: member.userId, entryId: member.entryId },
      ownToken: member.ownToken,
      release: true as const,
    })),
  );
}

async function scheduleNextItems(deps: DispatchDeps, batch: BatchRef, plans: MemberPlan[]): Promise<void> {
  // One call per (step, second): a batch moving on together is one script per shard, not one per user.
  const moving = plans.flatMap(({ member, next }) => (next ? [{ member, next, second: Math.floor(next.dueAt / 1000) }] : []));
  const groups = groupBy(moving, ({ next, second }) => `${next.stepId}@${second}`);
  await Promise.all(
    [...groups.values()].map((group) =>
      deps.dueSchedule.schedule(
        { ...batch.branch, stepId: group[0]!.next.stepId },
        group[0]!.second,
        group.map(({ member, next }) => ({
          userId: member.userId,
          entryId: member.entryId,
          expectedToken: next.expectedToken,
          ownToken: next.ownToken,
        })),
      ),
    ),
  );
}

async function dispatchMember(
  deps: DispatchDeps,
  batch: BatchRef,
  definition: JourneyDefinition,
  member: DueMember,
  loaders: BatchLoaders,
  leases: Leases,
): Promise<MemberPlan> {
  const plan = await walkMember(deps, batch, definition, member, loaders, leases);
  if (!plan.commit) return plan;
  const landed = await loaders.commit.load(plan.commit);
  return landed && plan.commitIncrements.length > 0 ? { ...plan, increments: [...plan.increments, ...plan.commitIncrements] } : plan;
}

/** This try's id and lease length, and the members whose lock it leased and still holds (not settled yet). */
interface Leases {
  tryId: string;
  ms: number;
  held: Set<DueMember>;
}

/** Ends this try's leases (the lock keeps its token, with the TTL it was taken with): for a try that gives up. */
async function endLeases(deps: DispatchDeps, batch: BatchRef, leases: Leases): Promise<void> {
  const { journeyId } = batch.branch;
  const held = [...leases.held];
  leases.held.clear();
  await deps.branchLock
    .settleMany(
      held.map((member) => ({
        target: { journeyId, userId: member.userId, entryId: member.entryId },
        ownToken: member.ownToken,
        extendMs: LOCK_MARGIN_MS,
      })),
    )
    .catch((err: unknown) => deps.logger.warn({ err }, 'could not end the leases of a failed batch; they lapse'));
}

/**
 * One member: take its branch lock, read its state, let core decide, send if it must, and hand back what to commit
 * and schedule. Everything between the read and the commit is core's (decideMember, settleSend).
 */
async function walkMember(
  deps: DispatchDeps,
  batch: BatchRef,
  definition: JourneyDefinition,
  member: DueMember,
  loaders: BatchLoaders,
  leases: Leases,
): Promise<MemberPlan> {
  const { journeyId, version, stepId } = batch.branch;
  const target = { journeyId, userId: member.userId, entryId: member.entryId };
  const { lock, leaseStart } = await loaders.lock.load({ target, expectedToken: member.expectedToken, ownToken: member.ownToken });
  if (lock.status === 'lost') return { member, result: 'lost', next: null, commit: null, increments: [], commitIncrements: [] };
  if (lock.status === 'busy') {
    // Another try of this very item holds it: it carries the item out, or (if it died) its lease lapses and this
    // item, looking again then, resumes it.
    const again = { stepId, dueAt: Math.ceil(lock.until / 1000) * 1000, expectedToken: member.expectedToken, ownToken: member.ownToken };
    return { member, result: 'deferred', next: again, commit: null, increments: [], commitIncrements: [] };
  }
  leases.held.add(member);

  const [state, user] = await Promise.all([loaders.state.load(member.userId), loaders.user.load(member.userId)]);
  const now = deps.now();
  const input = {
    journey: definition,
    journeyId,
    version,
    item: { ...member, stepId },
    state: state ? toEntryState(state) : null,
    // No user document: the user was erased, and nothing is done for them.
    user: user?.attributes ?? null,
    now,
  };
  let decision = decideMember(input);
  if (decision.kind === 'update') {
    // Applied once per visit (its key), then decided again past the step with the user as it is now: a retry of this
    // item finds the change applied and walks on from the same user.
    const updated = await deps.users.applyUpdate(member.userId, { key: decision.key, ...decision.update }, new Date(now));
    decision = decideMember({ ...input, user: updated?.attributes ?? null, updateApplied: true });
    if (decision.kind === 'update') throw new Error(`user_update step "${stepId}" asked to be applied twice`);
  }
  let settlement: Settlement;
  if (decision.kind === 'send') {
    // The send starts within the first third of the lease: the rest covers the attempt (the lease is at least three
    // attempt timeouts) and noting its answer. A try that could not start by then (it waited for a connection to a busy
    // origin) sends nothing: another try may have taken the item over since, and the item looks again soon.
    const delivery = await deliver(deps, decision, {
      lock,
      muted: user?.muted ?? [],
      now,
      startBy: leaseStart + Math.floor(leases.ms / 3),
    });
    if (delivery === 'late') {
      leases.held.delete(member);
      const again = { stepId, dueAt: deps.now() + 1_000, expectedToken: member.expectedToken, ownToken: member.ownToken };
      return { member, result: 'deferred', next: again, commit: null, increments: [], commitIncrements: [] };
    }
    settlement = settleSend(decision, delivery, deps.retryPolicy);
  } else {
    if (decision.kind === 'fault') {
      deps.logger.error({ err: decision.error, journeyId, version, stepId, userId: member.userId }, 'journey fault: the entry ends');
      deps.onFailure?.({
        at: now,
        source: 'dispatch',
        reason: `journey fault: ${decision.error.message}`,
        journeyId,
        stepId,
        userId: member.userId,
      });
    }
    settlement = decision.settlement;
  }
  if (settlement.commit?.message?.record.status === 'failed') {
    const { record, stepId: messageStep } = settlement.commit.message;
    deps.onFailure?.({
      at: now,
      source: 'send',
      reason: `${record.reason} after ${record.attempts} attempt(s)${record.lastError ? `: ${record.lastError}` : ''}`,
      journeyId,
      stepId: messageStep,
      userId: member.userId,
    });
  }
  if (settlement.lockTtlMs !== null) {
    if (!(await loaders.settle.load({ target, ownToken: member.ownToken, extendMs: settlement.lockTtlMs })))
      throw new LockNotHeldError({ keys: [`${journeyId}/${member.userId}/${member.entryId}`] });
    leases.held.delete(member);
  }
  return {
    member,
    result: settlement.result,
    next: settlement.next,
    commit: settlement.commit,
    increments: settlement.counts,
    commitIncrements: settlement.commitCounts,
  };
}

/**
 * What became of the send: the answer an earlier try of this item got (the lock was ours before: a retried batch,
 * or a crash after the answer), a skip (a new visit only: a mute or the frequency cap, checked after the recall so
 * a cap never counts this very message against itself), or one attempt now.
 */
async function deliver(
  deps: DispatchDeps,
  pending: PendingSend,
  { lock, muted, now, startBy }: { lock: TakeLockResult; muted: readonly string[]; now: number; startBy: number },
): Promise<Delivery | 'late'> {
  const { message } = pending;
  const refused = undeliverable(pending);
  if (refused) return refused;
  if (lock.status === 'resume') {
    const recalled = await deps.deliveries.recall(message.userId, message.messageId);
    if (recalled?.status === 'sent') return { status: 'sent' };
    if (recalled?.status === 'refused') {
      const reason = SendReasonSchema.safeParse(recalled.reason);
      return { status: 'failed', reason: reason.success ? reason.data : 'http_4xx' };
    }
  }
  if (pending.checks) {
    const { checks } = pending;
    const sentAt = checks.capWindowStart === null ? [] : await deps.deliveries.sentSince(message.userId, checks.capWindowStart);
    const skip = skipReason(checks, { muted: muted.includes(checks.messageType), sentAt }, now);
    if (skip) return { status: 'skipped', reason: skip };
  }
  const answer = await deps.deliveries.attempt(message, { startBy });
  if (answer.status === 'late') return 'late';
  const { attempt, ...outcome } = answer;
  if (outcome.status === 'sent') return outcome;
  const seen = [attempt.status === undefined ? undefined : `HTTP ${attempt.status}`, attempt.error].filter(Boolean).join(': ');
  return seen === '' ? outcome : { ...outcome, error: seen };
}
