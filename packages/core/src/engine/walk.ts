import type { ActionPathsStep, JourneyDefinition } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import { actionPathsTimedOut, actionPathTaken } from './action-paths.js';
import type { BranchDecision, SendDecision, StepDecision } from './decision.js';
import { planStep, type StepContext } from './plan-step.js';
import { parseStepToken, stepToken } from './token.js';
import { TIMEOUT_BRANCH_ID } from '../journey/branch-ids.js';

/** A step to schedule for the entry: run `stepId` at `dueAt`, holding `ownToken` once `expectedToken` is the lock's. */
export interface NextItem {
  stepId: string;
  dueAt: EpochMs;
  expectedToken: string;
  ownToken: string;
}

/** Where a walk stops; the worker carries it out and commits the entry's new state in one write. */
export type WalkOutcome =
  /** Send, then (when `then` is set) schedule the next step; no `then`: the entry is complete after the send. */
  | { kind: 'send'; send: SendDecision; then: NextItem | null }
  /** Not yet: quiet hours. Schedule `retry` (the same step, the same tokens) and change nothing else. */
  | { kind: 'defer'; retry: NextItem }
  /** A delay: schedule `then` at the delay's end. */
  | { kind: 'wait'; stepId: string; then: NextItem }
  /** An action_paths step: wait for a path's event; `timeout` is the item that takes the timeout path. */
  | { kind: 'await'; stepId: string; deadline: EpochMs; timeout: NextItem }
  /** A `user_update` step the item starts at: the worker applies it (once per visit), then walks again past it. */
  | { kind: 'update'; stepId: string }
  | { kind: 'exit'; stepId: string }
  | { kind: 'end' };

export interface WalkResult {
  /**
   * The steps the entry arrived at, in order, the one it stops at included: for the `entered` counters. The item's
   * own step is an arrival unless the item resolves an `action_paths` step it already waited on.
   */
  reached: string[];
  /** Instant decisions taken on the way (audience splits, experiments, action paths), in order: for the counters. */
  branches: BranchDecision[];
  outcome: WalkOutcome;
}

/** A walk that never stops means a cycle without a waiting step, which validation refuses; this bounds a bad graph. */
const MAX_INSTANT_STEPS = 1_000;

/**
 * What one due item of an entry does, from its step to the next point that needs time or a side effect:
 * instant decisions (splits, experiments, a resolved action path) are taken in the same walk, so the entry
 * costs one state write per stop. `ownToken` is the token the item holds; a token with a branch resolves the
 * action_paths step it names (`timeout` or a path id). Pure: a function of the journey, the context and `now`.
 */
export function walkEntry(
  journey: JourneyDefinition,
  item: { stepId: string; expectedToken: string; ownToken: string },
  context: StepContext,
): WalkResult {
  const { seq, branchId } = parseStepToken(item.ownToken);
  const walkContext: StepContext = { ...context, itemToken: item.ownToken };
  const nextToken = stepToken(seq + 1);
  const branches: BranchDecision[] = [];
  const reached: string[] = [];
  let stepId: string | null = item.stepId;
  let first = true;

  for (let steps = 0; steps < MAX_INSTANT_STEPS; steps++) {
    const step = stepId === null ? undefined : journey.steps[stepId];
    let decision: StepDecision;
    if (first && branchId !== undefined && step?.type === 'action_paths') {
      decision = resolveActionPath(stepId as string, step, branchId);
    } else {
      if (stepId !== null) reached.push(stepId);
      decision = planStep(journey, stepId, walkContext);
    }
    const itemStep = first;
    first = false;

    switch (decision.kind) {
      case 'branch':
        branches.push(decision);
        stepId = decision.next;
        continue;
      case 'send':
        if (decision.notBefore > context.now && decision.visit.kind !== 'ended') {
          // The same step again later, with the same tokens: the re-run finds its own token in the lock and resumes.
          // A message that already ended only moves the entry on: quiet hours hold back sends, not that.
          return {
            reached,
            branches,
            outcome: {
              kind: 'defer',
              retry: { stepId: decision.stepId, dueAt: decision.notBefore, expectedToken: item.expectedToken, ownToken: item.ownToken },
            },
          };
        }
        return {
          reached,
          branches,
          outcome: {
            kind: 'send',
            send: decision,
            then:
              decision.next === null
                ? null
                : { stepId: decision.next, dueAt: context.now, expectedToken: item.ownToken, ownToken: nextToken },
          },
        };
      case 'wait':
        if (decision.next === null) return { reached, branches, outcome: { kind: 'end' } };
        return {
          reached,
          branches,
          outcome: {
            kind: 'wait',
            stepId: decision.stepId,
            then: { stepId: decision.next, dueAt: decision.until, expectedToken: item.ownToken, ownToken: nextToken },
          },
        };
      case 'await':
        return {
          reached,
          branches,
          outcome: {
            kind: 'await',
            stepId: decision.stepId,
            deadline: decision.deadline,
            timeout: {
              stepId: decision.stepId,
              dueAt: decision.deadline,
              expectedToken: item.ownToken,
              ownToken: stepToken(seq + 1, TIMEOUT_BRANCH_ID),
            },
          },
        };
      case 'update':
        if (itemStep) {
          // The item's own step: once the worker applied the change, the walk goes on with the updated user.
          if (context.updateApplied) {
            stepId = decision.next;
            continue;
          }
          return { reached, branches, outcome: { kind: 'update', stepId: decision.stepId } };
        }
        // Reached on the way: the update gets an item of its own, so it is applied once, before anything after it
        // is decided, and a retry of that item walks on from the same updated user.
        reached.pop();
        return {
          reached,
          branches,
          outcome: {
            kind: 'wait',
            stepId: decision.stepId,
            then: { stepId: decision.stepId, dueAt: context.now, expectedToken: item.ownToken, ownToken: nextToken },
          },
        };
      case 'exit':
        return { reached, branches, outcome: { kind: 'exit', stepId: decision.stepId } };
      case 'end':
        return { reached, branches, outcome: { kind: 'end' } };
    }
  }
  throw new Error(`journey ${context.journeyId}: more than ${MAX_INSTANT_STEPS} instant steps without a stop from "${item.stepId}"`);
}

function resolveActionPath(stepId: string, step: ActionPathsStep, branchId: string): BranchDecision {
  if (branchId === TIMEOUT_BRANCH_ID) return actionPathsTimedOut(stepId, step);
  const path = step.paths.find((candidate) => candidate.id === branchId);
  if (path === undefined) throw new Error(`action_paths step "${stepId}" has no path "${branchId}"`);
  return actionPathTaken(stepId, path);
}
