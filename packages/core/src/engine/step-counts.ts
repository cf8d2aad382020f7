import type { JourneyDefinition } from '../journey/schema.js';
import type { WalkResult } from './walk.js';

/** The journey counters (GET /v1/journeys/:id/stats), per step and per branch of a step. */
export const STEP_COUNTERS = ['entered', 'sent', 'skipped', 'failed', 'exited', 'converted'] as const;
export type StepCounter = (typeof STEP_COUNTERS)[number];

/** One counter to add to: the step as a whole, or one branch (branch, path or variant id) of it. */
export interface StepCount {
  stepId: string;
  branchId?: string;
  counter: StepCounter;
  /** Default 1. */
  by?: number;
}

/** The step id of counters about the journey as a whole (`entered`: entries, `converted`: entries that converted). */
export const JOURNEY_TOTAL = '*';

/**
 * What a walk counts once its commit lands: `entered` for every step it arrived at and every branch it took. A
 * message step is left out: it counts `entered` with the first record of its visit (see messageCounts), because a
 * send held back by quiet hours, or tried again later, arrives at the same step more than once for one visit.
 */
export function walkCounts(journey: JourneyDefinition, walk: Pick<WalkResult, 'reached' | 'branches'>): StepCount[] {
  const counts: StepCount[] = [];
  for (const stepId of walk.reached) if (journey.steps[stepId]?.type !== 'message') counts.push({ stepId, counter: 'entered' });
  for (const branch of walk.branches) counts.push({ stepId: branch.stepId, branchId: branch.branchId, counter: 'entered' });
  return counts;
}

/**
 * What a goal conversion counts: `converted` for the journey, and at every step the entry reached and every branch
 * (split branch, action path, experiment variant, control included) it took before it converted.
 */
export function conversionCounts(path: { steps: readonly string[]; branches: readonly string[] }): StepCount[] {
  const counts: StepCount[] = [{ stepId: JOURNEY_TOTAL, counter: 'converted' }];
  for (const stepId of new Set(path.steps)) counts.push({ stepId, counter: 'converted' });
  for (const taken of new Set(path.branches)) {
    const colon = taken.indexOf(':');
    if (colon > 0) counts.push({ stepId: taken.slice(0, colon), branchId: taken.slice(colon + 1), counter: 'converted' });
  }
  return counts;
}

/**
 * What a message step's record counts once its commit lands: `entered` when it is the visit's first record, and
 * the outcome once it ended (a send also counts at the branch the walk took last, at the step that took it).
 */
export function messageCounts(
  stepId: string,
  record: { firstOfVisit: boolean; status: 'sent' | 'failed' | 'skipped' | 'retrying' },
  lastBranch: { stepId: string; branchId: string } | undefined,
): StepCount[] {
  const counts: StepCount[] = record.firstOfVisit ? [{ stepId, counter: 'entered' }] : [];
  if (record.status === 'retrying') return counts;
  counts.push({ stepId, counter: record.status });
  if (record.status === 'sent' && lastBranch) counts.push({ stepId: lastBranch.stepId, branchId: lastBranch.branchId, counter: 'sent' });
  return counts;
}
