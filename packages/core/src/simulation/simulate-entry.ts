import type { JsonObject, JsonValue } from '../data/json.js';
import { bucketOf, experimentSeed } from '../experiment/assign.js';
import type { Filter } from '../filter/schema.js';
import { ELSE_BRANCH_ID, TIMEOUT_BRANCH_ID } from '../journey/branch-ids.js';
import type { JourneyDefinition } from '../journey/schema.js';
import { webhookRequest, type WebhookRequest } from '../message/webhook-request.js';
import type { BranchDecision } from '../engine/decision.js';
import type { RetryPolicy } from '../engine/delivery-retry.js';
import { FIRST_STEP_TOKEN } from '../engine/entry-decision.js';
import type { EntryCommit, EntryState, SendReason } from '../engine/entry-state.js';
import { planRecord, versionKey } from '../engine/record-plan.js';
import {
  decideMember,
  settleSend,
  skipReason,
  undeliverable,
  type Delivery,
  type MemberDecision,
  type PendingSend,
} from '../engine/settle.js';
import { EXIT_TOKEN } from '../engine/token.js';
import type { NextItem, WalkResult } from '../engine/walk.js';
import type { RenderedUpdate } from '../template/journey-templates.js';
import type { EpochMs } from '../time/epoch.js';

/** An event of the simulated user's timeline, at an absolute time. */
export interface SimulatedEvent {
  at: EpochMs;
  name: string;
  properties: JsonObject;
}

export interface EntrySimulationInput {
  journey: JourneyDefinition;
  journeyId: string;
  version: number;
  userId: string;
  /** The user's attributes at entry (`timezone` among them places quiet hours and wall-clock delays). */
  attributes: Readonly<Record<string, unknown>>;
  /** Message types the user muted. */
  muted: readonly string[];
  /** When the user got messages before entering (epoch ms), for the frequency cap. */
  sentBefore: readonly EpochMs[];
  entryId: string;
  enteredAt: EpochMs;
  /** The event (or the API entry's properties) that entered the user; null for a schedule entry. */
  trigger: { name: string; properties: JsonObject } | null;
  /** Later events of the user, in any order. */
  events: readonly SimulatedEvent[];
  /** The engine's retry policy: it decides nothing here (every receiver takes its message), but settles the send. */
  retryPolicy: RetryPolicy;
  /** Simulated time ends here: an entry still inside then is reported `active`. */
  until: EpochMs;
}

/** Why a branch was taken. */
export type BranchReason =
  | { kind: 'filter'; filter: Filter }
  | { kind: 'else' }
  | { kind: 'variant'; bucket: number; weight: number }
  | { kind: 'event'; event: { name: string; properties: JsonObject } }
  | { kind: 'timeout' };

/** One moment of the simulated entry, in time order. */
export type TimelineEntry =
  | { kind: 'entered'; at: EpochMs; stepId: string }
  | { kind: 'step'; at: EpochMs; stepId: string; type: string }
  | { kind: 'branch'; at: EpochMs; stepId: string; branchId: string; reason: BranchReason }
  | { kind: 'wait'; at: EpochMs; stepId: string; until: EpochMs }
  | { kind: 'await'; at: EpochMs; stepId: string; deadline: EpochMs }
  /** Quiet hours held the message back: the same step runs again at `sendAt`. */
  | { kind: 'quiet_hours'; at: EpochMs; stepId: string; sendAt: EpochMs }
  | {
      kind: 'message';
      at: EpochMs;
      stepId: string;
      messageId: string;
      status: 'sent' | 'skipped' | 'failed';
      reason: SendReason | null;
      /** What the channel would send (null: nothing is sent, for a skip or a template that did not render). */
      request: WebhookRequest | null;
      error: string | null;
    }
  | { kind: 'user_update'; at: EpochMs; stepId: string; set: Record<string, JsonValue>; unset: string[] }
  | { kind: 'event'; at: EpochMs; name: string; properties: JsonObject; effects: Array<'converted' | 'exited' | 'path'> }
  | { kind: 'fault'; at: EpochMs; stepId: string; error: string }
  | { kind: 'end'; at: EpochMs; status: 'completed' | 'exited'; stepId: string | null };

export interface EntrySimulation {
  timeline: TimelineEntry[];
  /** The steps reached and branches taken, in order (`step` and `step:branch`): what the audience shares group by. */
  path: string[];
  end: { status: 'completed' | 'exited' | 'active'; at: EpochMs; stepId: string | null };
  convertedAt: EpochMs | null;
  /** The user's attributes at the end (after any user_update). */
  attributes: Record<string, unknown>;
}

/** An entry that never ends without a wait (a journey looping on a delay) stops after this many items. */
const MAX_ITEMS = 1_000;

/**
 * One user's entry, simulated with the dispatcher's own decisions (decideMember, settleSend, skipReason) and the
 * ingester's (planRecord), on a state kept in memory as the stores would keep it: the branch lock as a token, each
 * commit as the conditional write applies it. No I/O and no side effect: every receiver takes its message, and
 * time jumps from one due item or event to the next. At equal times items run before events, as a step due now is
 * carried out before a later-applied event finds its wait.
 */
export function simulateEntry(input: EntrySimulationInput): EntrySimulation {
  const { journey, journeyId, version, userId, entryId } = input;
  let state: EntryState = {
    journeyId,
    userId,
    version,
    entryId,
    status: 'active',
    stepId: journey.start,
    token: FIRST_STEP_TOKEN,
    trigger: input.trigger,
    awaiting: null,
    actionEvent: null,
    messages: {},
    lastEnteredAt: input.enteredAt,
    path: { steps: [], branches: [] },
    convertedAt: null,
  };
  let user: Record<string, unknown> = { ...input.attributes };
  let lock: string | null = null;
  const sent: EpochMs[] = [...input.sentBefore];
  const timeline: TimelineEntry[] = [{ kind: 'entered', at: input.enteredAt, stepId: journey.start }];
  const path: string[] = [];
  let items: NextItem[] = [{ stepId: journey.start, dueAt: input.enteredAt, expectedToken: '', ownToken: FIRST_STEP_TOKEN }];
  const events = [...input.events].sort((a, b) => a.at - b.at);
  let nextEvent = 0;
  let ranItems = 0;
  let endedAt: EpochMs | null = null;
  /** The step an event's exit found the entry at (an exit step or the last step otherwise is the path's last). */
  let exitedAtStep: string | null = null;
  const deferred = new Set<string>();

  const applyCommit = (commit: EntryCommit | null): void => {
    // The store's conditional write: the entry it names, at the token it read, still active.
    if (!commit || state.entryId !== commit.entryId || state.token !== commit.expectedToken || state.status !== 'active') return;
    state = {
      ...state,
      token: commit.token,
      stepId: commit.stepId,
      status: commit.status,
      awaiting: commit.awaiting ?? null,
      messages: commit.message ? { ...state.messages, [commit.message.stepId]: commit.message.record } : state.messages,
      path: {
        steps: union(state.path.steps, commit.path?.steps ?? []),
        branches: union(state.path.branches, commit.path?.branches ?? []),
      },
    };
    if (commit.status !== 'active') endedAt = commit.now;
  };

  const describeWalk = (walk: WalkResult, at: EpochMs, item: NextItem, applied: RenderedUpdate | null): void => {
    const branchesByStep = new Map(walk.branches.map((branch) => [branch.stepId, branch]));
    const resolved = walk.branches.find((branch) => branch.stepId === item.stepId && !walk.reached.includes(item.stepId));
    if (resolved) noteBranch(resolved, at);
    // A send held back by quiet hours reaches its step again when it goes: the same visit, shown once.
    const again = deferred.delete(itemKey(item)) && walk.reached[0] === item.stepId;
    for (const stepId of again ? walk.reached.slice(1) : walk.reached) {
      const type = journey.steps[stepId]?.type ?? 'unknown';
      timeline.push({ kind: 'step', at, stepId, type });
      path.push(stepId);
      if (type === 'user_update' && applied) {
        timeline.push({ kind: 'user_update', at, stepId, set: applied.set, unset: applied.unset });
        applied = null;
      }
      const branch = branchesByStep.get(stepId);
      if (branch) noteBranch(branch, at);
    }
  };

  const noteBranch = (branch: BranchDecision, at: EpochMs): void => {
    timeline.push({ kind: 'branch', at, stepId: branch.stepId, branchId: branch.branchId, reason: branchReason(branch) });
    path.push(`${branch.stepId}:${branch.branchId}`);
  };

  const branchReason = (branch: BranchDecision): BranchReason => {
    const step = journey.steps[branch.stepId];
    if (step?.type === 'audience_split') {
      const matched = step.branches.find((candidate) => candidate.id === branch.branchId);
      return matched && branch.branchId !== ELSE_BRANCH_ID ? { kind: 'filter', filter: matched.when } : { kind: 'else' };
    }
    if (step?.type === 'experiment') {
      const variant = step.variants.find((candidate) => candidate.id === branch.branchId);
      return { kind: 'variant', bucket: bucketOf(experimentSeed(journeyId, entryId, branch.stepId)), weight: variant?.weight ?? 0 };
    }
    if (branch.branchId === TIMEOUT_BRANCH_ID) return { kind: 'timeout' };
    const event = state.actionEvent;
    return { kind: 'event', event: event ? { name: event.name, properties: event.properties } : { name: '', properties: {} } };
  };

  const deliver = (pending: PendingSend, at: EpochMs): Delivery => {
    const refused = undeliverable(pending);
    if (refused) return refused;
    if (pending.checks) {
      const skip = skipReason(pending.checks, { muted: input.muted.includes(pending.checks.messageType), sentAt: sent }, at);
      if (skip) return { status: 'skipped', reason: skip };
    }
    return { status: 'sent' };
  };

  const runItem = (item: NextItem): void => {
    const at = item.dueAt;
    // The branch lock: the item takes it from the token it expects, or holds it already (a send quiet hours held
    // back); an exit's seal or a path that won the race leaves the item nothing to do.
    const takes = lock === item.ownToken || lock === item.expectedToken || (lock === null && item.expectedToken === '');
    if (!takes) return;
    lock = item.ownToken;
    const memberInput = {
      journey,
      journeyId,
      version,
      item: { userId, entryId, expectedToken: item.expectedToken, ownToken: item.ownToken, stepId: item.stepId },
      state,
      user,
      now: at,
    };
    let decision: MemberDecision = decideMember(memberInput);
    let applied: RenderedUpdate | null = null;
    if (decision.kind === 'update') {
      // Applied once, then decided again past the step with the user as it is now: what the dispatcher does.
      applied = decision.update;
      user = { ...user, ...applied.set };
      for (const name of applied.unset) delete user[name];
      decision = decideMember({ ...memberInput, user, updateApplied: true });
      if (decision.kind === 'update') throw new Error(`user_update step of item "${item.stepId}" asked to be applied twice`);
    }
    switch (decision.kind) {
      case 'fault':
        timeline.push({ kind: 'fault', at, stepId: item.stepId, error: decision.error.message });
        applyCommit(decision.settlement.commit);
        break;
      case 'send': {
        describeWalk(decision.walk, at, item, applied);
        const delivery = deliver(decision, at);
        const settlement = settleSend(decision, delivery, input.retryPolicy);
        if (delivery.status === 'sent') sent.push(at);
        timeline.push({
          kind: 'message',
          at,
          stepId: decision.message.stepId,
          messageId: decision.message.messageId,
          status: delivery.status === 'sent' ? 'sent' : delivery.status === 'skipped' ? 'skipped' : 'failed',
          reason: delivery.status === 'sent' || delivery.status === 'retry' ? null : delivery.reason,
          request: delivery.status === 'sent' ? webhookRequest(decision.message, at) : null,
          error: delivery.status === 'failed' ? (delivery.error ?? null) : null,
        });
        applyCommit(settlement.commit);
        if (settlement.next) items.push(settlement.next);
        break;
      }
      case 'settled': {
        const { settlement, walk } = decision;
        if (walk) describeWalk(walk, at, item, applied);
        const outcome = walk?.outcome;
        if (outcome?.kind === 'defer')
          timeline.push({ kind: 'quiet_hours', at, stepId: outcome.retry.stepId, sendAt: outcome.retry.dueAt });
        // A user_update reached on the way is a "wait" for an item of its own, due now: not a delay.
        if (outcome?.kind === 'wait' && journey.steps[outcome.stepId]?.type === 'delay')
          timeline.push({ kind: 'wait', at, stepId: outcome.stepId, until: outcome.then.dueAt });
        if (outcome?.kind === 'defer') deferred.add(itemKey(outcome.retry));
        if (outcome?.kind === 'await') timeline.push({ kind: 'await', at, stepId: outcome.stepId, deadline: outcome.deadline });
        applyCommit(settlement.commit);
        if (settlement.next) items.push(settlement.next);
        break;
      }
    }
  };

  const applyEvent = (event: SimulatedEvent): void => {
    const plan = planRecord({
      streamId: `simulated-${event.at}`,
      record: { type: 'event', id: `simulated-${event.at}`, userId, name: event.name, time: event.at, properties: event.properties },
      attributes: user,
      states: [state],
      definitions: new Map([[versionKey(journeyId, version), journey]]),
      active: [],
      now: event.at,
    });
    const effects: Array<'converted' | 'exited' | 'path'> = [];
    for (const action of plan.actions) {
      if (action.kind === 'convert' && state.convertedAt === null) {
        state = { ...state, convertedAt: action.at };
        effects.push('converted');
      } else if (action.kind === 'exit' && state.status === 'active') {
        lock = EXIT_TOKEN;
        exitedAtStep = state.stepId;
        state = { ...state, status: 'exited', stepId: null, awaiting: null };
        endedAt = event.at;
        effects.push('exited');
      } else if (
        action.kind === 'action-path' &&
        state.awaiting?.token === action.awaitingToken &&
        state.actionEvent?.token !== action.awaitingToken
      ) {
        state = { ...state, actionEvent: { token: action.awaitingToken, recordId: action.recordId, ...action.event } };
        items.push({
          stepId: action.step.branch.stepId,
          dueAt: event.at,
          expectedToken: action.step.member.expectedToken,
          ownToken: action.step.member.ownToken,
        });
        effects.push('path');
      }
    }
    timeline.push({ kind: 'event', at: event.at, name: event.name, properties: event.properties, effects });
  };

  while (ranItems < MAX_ITEMS) {
    items.sort((a, b) => a.dueAt - b.dueAt);
    const item = items[0];
    const event = events[nextEvent];
    if (event && event.at <= input.until && (!item || event.at < item.dueAt)) {
      nextEvent++;
      applyEvent(event);
      continue;
    }
    if (!item || item.dueAt > input.until || state.status !== 'active') break;
    items = items.slice(1);
    ranItems++;
    runItem(item);
  }
  // Events after the end still convert (a goal counts after the entry ended, within its window).
  for (; nextEvent < events.length && events[nextEvent]!.at <= input.until; nextEvent++) applyEvent(events[nextEvent]!);

  const end: EntrySimulation['end'] =
    state.status === 'active'
      ? { status: 'active', at: input.until, stepId: state.stepId }
      : { status: state.status, at: endedAt ?? input.until, stepId: exitedAtStep ?? lastStep(path) };
  if (end.status !== 'active') insertEnd(timeline, { kind: 'end', at: end.at, status: end.status, stepId: end.stepId });
  return { timeline, path, end, convertedAt: state.convertedAt, attributes: user };
}

function itemKey(item: Pick<NextItem, 'stepId' | 'ownToken'>): string {
  return `${item.stepId}@${item.ownToken}`;
}

function union(current: readonly string[], added: readonly string[]): string[] {
  const all = [...current];
  for (const value of added) if (!all.includes(value)) all.push(value);
  return all;
}

function lastStep(path: readonly string[]): string | null {
  for (let index = path.length - 1; index >= 0; index--) if (!path[index]!.includes(':')) return path[index]!;
  return null;
}

/** The end goes after everything that happened at or before its time (later events may still convert). */
function insertEnd(timeline: TimelineEntry[], end: Extract<TimelineEntry, { kind: 'end' }>): void {
  const after = timeline.findIndex((entry) => entry.at > end.at);
  if (after === -1) timeline.push(end);
  else timeline.splice(after, 0, end);
}
