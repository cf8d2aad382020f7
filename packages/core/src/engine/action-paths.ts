import { evaluateFilter } from '../filter/evaluate.js';
import type { ActionPath, ActionPathsStep } from '../journey/schema.js';
import { TIMEOUT_BRANCH_ID } from '../journey/branch-ids.js';
import type { BranchDecision } from './decision.js';

export interface JourneyEvent {
  name: string;
  properties?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The path an event takes the user down: the first path, in listed order, whose event name matches
 * and whose `where` (if any) matches the event's properties and the user. Null: the event is not one
 * the step waits for, and the user keeps waiting.
 */
export function matchActionPath(
  step: Pick<ActionPathsStep, 'paths'>,
  event: JourneyEvent,
  user: Readonly<Record<string, unknown>> = {},
): ActionPath | null {
  for (const path of step.paths) {
    if (path.event !== event.name) continue;
    if (path.where === undefined || evaluateFilter(path.where, { user, event: event.properties ?? {} })) return path;
  }
  return null;
}

/** The decision once an awaited event matched `path`. */
export function actionPathTaken(stepId: string, path: ActionPath): BranchDecision {
  return { kind: 'branch', stepId, branchId: path.id, next: path.next };
}

/** The decision when the window closed without a matching event. */
export function actionPathsTimedOut(stepId: string, step: Pick<ActionPathsStep, 'timeout'>): BranchDecision {
  return { kind: 'branch', stepId, branchId: TIMEOUT_BRANCH_ID, next: step.timeout };
}
