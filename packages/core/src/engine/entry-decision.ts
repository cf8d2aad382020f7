import type { Reentry } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import { mayReenter } from './entry.js';
import type { EntryState, ScheduledStep } from './entry-state.js';
import { stepToken } from './token.js';

/** The token of an entry's first step: the state is written with it, and the first step's member owns it. */
export const FIRST_STEP_TOKEN = stepToken(0);

/**
 * What entering a user means, given their state in the journey (null: never entered) and the entry id the
 * cause derives. The callers read the state and carry the decision out.
 * - `enter`: write the new entry's state, then schedule its first step.
 * - `reschedule`: this very cause entered the user before (a retried drain or schedule run) and the first step
 *   has not run yet: schedule it again (harmless, the member is the same; if it ran meanwhile, the lock says so).
 * - `skip`: the user is inside the journey, re-entry is not allowed yet, or this cause's entry is under way.
 */
export type EntryDecision =
  | { kind: 'enter' }
  | { kind: 'reschedule'; step: ScheduledStep }
  | { kind: 'skip'; reason: 'entered-by-this-cause' | 'active' | 'reentry' };

export function decideEntry(reentry: Reentry, current: EntryState | null, entryId: string, now: EpochMs): EntryDecision {
  // Checked before re-entry: a retry must find its own entry, which `reentry` would otherwise refuse.
  if (current?.entryId === entryId) {
    const step = pendingFirstStep(current);
    return step ? { kind: 'reschedule', step } : { kind: 'skip', reason: 'entered-by-this-cause' };
  }
  if (current?.status === 'active') return { kind: 'skip', reason: 'active' };
  if (!mayReenter(reentry, current ? current.lastEnteredAt : null, now)) return { kind: 'skip', reason: 'reentry' };
  return { kind: 'enter' };
}

/**
 * The first step of the state's entry while it has not been committed yet (the state still holds the first
 * token: the dispatcher replaces it when it commits that step), due at the second the user entered.
 */
export function pendingFirstStep(state: EntryState): ScheduledStep | null {
  if (state.status !== 'active' || state.stepId === null || state.token !== FIRST_STEP_TOKEN) return null;
  return firstStep(state.journeyId, state.version, state.stepId, state.userId, state.entryId, state.lastEnteredAt);
}

export function firstStep(
  journeyId: string,
  version: number,
  stepId: string,
  userId: string,
  entryId: string,
  enteredAt: EpochMs,
): ScheduledStep {
  return {
    branch: { journeyId, version, stepId },
    dueSecond: Math.floor(enteredAt / 1000),
    member: { userId, entryId, expectedToken: '', ownToken: FIRST_STEP_TOKEN },
  };
}
