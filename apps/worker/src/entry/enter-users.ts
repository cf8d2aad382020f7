import {
  decideEntry,
  FIRST_STEP_TOKEN,
  firstStep,
  groupBy,
  JOURNEY_TOTAL,
  pendingFirstStep,
  type ActiveJourney,
  type Entrant,
  type ScheduledStep,
} from '@journey/core';
import { toEntryState, type JourneyStatesRepository } from '@journey/mongo';
import type { DueSchedule, Stats } from '@journey/redis';

export interface EntryStores {
  states: Pick<JourneyStatesRepository, 'enterMany' | 'get'>;
  dueSchedule: Pick<DueSchedule, 'schedule'>;
  stats: Pick<Stats, 'increment'>;
}

export interface EntryOutcome {
  /** New entries written. */
  entered: number;
  /** First steps put into due sets (new entries and re-scheduled ones). */
  scheduled: number;
}

/**
 * Enters users into an active journey: the state writes first (one conditional entry per user, never twice at
 * once, in bulk), THEN their first steps, scheduled in bulk per branch and second. A crash in between leaves
 * states whose first step is not scheduled; the retried cause finds them by their entry id (`reschedule`), so
 * nobody is left stranded.
 */
export async function enterUsers(
  stores: EntryStores,
  journey: ActiveJourney,
  entrants: readonly Entrant[],
  now: number,
): Promise<EntryOutcome> {
  const { journeyId, version, definition } = journey;
  const steps: ScheduledStep[] = [];
  const entering: Entrant[] = [];
  for (const entrant of entrants) {
    const decision = decideEntry(definition.entry.reentry, entrant.current, entrant.entryId, now);
    if (decision.kind === 'reschedule') steps.push(decision.step);
    else if (decision.kind === 'enter') entering.push(entrant);
  }

  const results = await stores.states.enterMany(
    entering.map((entrant) => ({
      journeyId,
      userId: entrant.userId,
      version,
      entryId: entrant.entryId,
      stepId: definition.start,
      token: FIRST_STEP_TOKEN,
      trigger: entrant.trigger,
      now: new Date(now),
    })),
  );
  let entered = 0;
  for (const [index, result] of results.entries()) {
    const entrant = entering[index]!;
    if (result === 'entered') {
      entered++;
      steps.push(firstStep(journeyId, version, definition.start, entrant.userId, entrant.entryId, now));
    } else if (result === 'same-entry') {
      // Only if the state changed since it was read (another applier of the same cause): rare, so one read each.
      const state = await stores.states.get(journeyId, entrant.userId);
      const step = state?.entryId === entrant.entryId ? pendingFirstStep(toEntryState(state)) : null;
      if (step) steps.push(step);
    }
  }

  // Counted by the writes that made the entries: a retried cause finds them made and counts nothing again.
  if (entered > 0) await stores.stats.increment(journeyId, version, [{ stepId: JOURNEY_TOTAL, counter: 'entered', by: entered }], now);

  const groups = groupBy(steps, (step) => `${step.branch.journeyId}:${step.branch.version}:${step.branch.stepId}:${step.dueSecond}`);
  let scheduled = 0;
  for (const group of groups.values()) {
    const { branch, dueSecond } = group[0]!;
    await stores.dueSchedule.schedule(
      branch,
      dueSecond,
      group.map((step) => step.member),
    );
    scheduled += group.length;
  }
  return { entered, scheduled };
}
